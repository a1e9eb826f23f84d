import { create, fromBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { toHex } from '@vitrine/crypto';
import { hlcToDate } from '@vitrine/events';
import { type Artifact, ArtifactSchema, ArtifactState } from '@vitrine/proto/artifact';
import { artifactKinds, findingStatuses, severities, slaStates } from '@vitrine/proto/enum-words';
import { EventBodySchema } from '@vitrine/proto/event';
import {
  type Comment,
  CommentSchema,
  type Finding,
  type FindingHistoryEntry,
  FindingHistoryEntrySchema,
  FindingSchema,
} from '@vitrine/proto/finding';
import {
  FindingChangeKind,
  type WatchFindingsResponse,
  WatchFindingsResponseSchema,
} from '@vitrine/proto/registry';
import type { Selectable } from 'kysely';
import { locationsOfColumn } from './finding-locations.js';
import type { WatchItem } from './finding-watch.js';
import type { ArtifactRow } from './queries/artifacts.js';
import type { FindingLinks } from './queries/finding-links.js';
import type { FindingRow } from './queries/findings.js';
import type { CommentTable } from './schema.js';
import type { ServiceLevel } from './service-levels.js';

/** The API view of an artifact row. */
export function toArtifact(row: ArtifactRow): Artifact {
  return create(ArtifactSchema, {
    id: row.id,
    kind: artifactKinds.valueOf(row.kind) ?? 0,
    product: row.product,
    version: row.version,
    size: row.size,
    contentDigest: toHex(row.content_digest),
    chunkCount: row.chunk_count,
    residency: row.residency,
    supersedes: row.supersedes,
    origin: row.origin,
    publishedAt: timestampOfHlc(row.published_hlc),
    state: row.state === 'available' ? ArtifactState.AVAILABLE : ArtifactState.REPLICATING,
    bytesHeld: row.bytes_held,
    residencyWidened: row.residency_widened,
  });
}

/**
 * The API view of a finding row: its duplicate links (see finding-links.ts) and, when given,
 * its service level at the moment of the response.
 */
export function toFinding(row: FindingRow, links: FindingLinks, level?: ServiceLevel): Finding {
  return create(FindingSchema, {
    id: row.id,
    artifactIds: row.artifact_ids,
    title: row.title,
    description: row.description,
    severity: severities.valueOf(row.severity) ?? 0,
    cvssVector: row.cvss_vector,
    ...(row.cvss_score !== null && { cvssScore: row.cvss_score }),
    severityReason: row.severity_reason,
    status: findingStatuses.valueOf(row.status) ?? 0,
    assignee: row.assignee,
    fixArtifactId: row.fix_artifact_id,
    origin: row.origin,
    createdAt: timestampOfHlc(row.created_hlc),
    updatedAt: timestampOfHlc(row.updated_hlc),
    commentCount: row.comment_count,
    residency: row.residency,
    duplicateOf: row.duplicate_of,
    duplicates: links.duplicates,
    effectiveStatus: findingStatuses.valueOf(links.effectiveStatus) ?? 0,
    ruleId: row.rule_id,
    tool: row.tool,
    locations: locationsOfColumn(row.locations),
    fingerprint: row.fingerprint,
    candidateFixArtifactId: row.candidate_fix_artifact_id,
    ...(level && {
      slaState: slaStates.value(level.state),
      daysToFix: level.daysToFix ?? 0,
      ...(level.triagedAt && { triagedAt: timestampFromMs(level.triagedAt.getTime()) }),
      ...(level.dueAt && { dueAt: timestampFromMs(level.dueAt.getTime()) }),
    }),
    ...embargoOf(row.disclose_after),
  });
}

/** The embargo field of a finding: absent for none (or a date no center could have written). */
function embargoOf(stored: string): { discloseAfter?: ReturnType<typeof timestampFromMs> } {
  const ms = Date.parse(stored);
  return Number.isFinite(ms) ? { discloseAfter: timestampFromMs(ms) } : {};
}

/** The API view of a comment row. */
export function toComment(row: Selectable<CommentTable>): Comment {
  return create(CommentSchema, {
    id: row.id,
    findingId: row.finding_id,
    text: row.text,
    author: row.author,
    origin: row.origin,
    createdAt: timestampOfHlc(row.hlc),
  });
}

/** One history entry, decoded from the stored event that made the change. */
export function toHistoryEntry(row: {
  origin: string;
  seq: bigint;
  hlc: bigint;
  overwritten_fields: string[];
  body: Uint8Array | null;
}): FindingHistoryEntry {
  const body = fromBinary(EventBodySchema, row.body ?? new Uint8Array());
  const change =
    body.change.case === 'findingCreated'
      ? { case: 'created' as const, value: body.change.value }
      : body.change.case === 'findingUpdated'
        ? { case: 'updated' as const, value: body.change.value }
        : body.change.case === 'commentAdded'
          ? { case: 'comment' as const, value: body.change.value }
          : { case: undefined };
  return create(FindingHistoryEntrySchema, {
    origin: row.origin,
    seq: row.seq,
    at: timestampOfHlc(row.hlc),
    actor: body.actor,
    change,
    overwrittenFields: row.overwritten_fields,
  });
}

function timestampOfHlc(hlc: bigint) {
  return timestampFromMs(hlcToDate(hlc).getTime());
}

/** The API view of a finding watch's message; `position` is its sealed resume token. */
export function toWatchResponse(item: WatchItem, position: string): WatchFindingsResponse {
  if (item.kind === 'heartbeat') return create(WatchFindingsResponseSchema, { position });
  return create(WatchFindingsResponseSchema, {
    position,
    change: {
      kind: CHANGE_KINDS[item.change],
      origin: item.origin,
      seq: item.seq,
      finding: item.finding,
    },
  });
}

const CHANGE_KINDS = {
  created: FindingChangeKind.CREATED,
  updated: FindingChangeKind.UPDATED,
  commented: FindingChangeKind.COMMENTED,
} as const;
