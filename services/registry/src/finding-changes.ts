import { toBinary } from '@bufbuild/protobuf';
import type { EventBody, EventHeader } from '@vitrine/proto/event';
import { FindingSchema } from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import { toFinding } from './convert.js';
import { stampOf } from './projections/event-stamp.js';
import { createdFindingRow } from './projections/finding.js';
import { type FindingChangeRow, insertFindingChanges } from './queries/finding-changes.js';
import { type FindingLinks, findingLinks } from './queries/finding-links.js';
import { type FindingRow, listFindings } from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';

/**
 * Records the finding changes among events just applied, with the finding as they leave it,
 * at the next watch positions (WatchFindings streams in position order and resumes after a
 * position).
 *
 * The caller must hold this center's log-head row lock, taken before this call and kept to
 * commit: a local append holds it from the start, an ingest takes it last (after the state
 * rows, the order local writes agree with). Positions come from an identity column, and two
 * concurrent transactions taking them freely could commit out of order — a reader that had
 * seen position 8 committed would move past 7 and never see it when it committed later.
 * Under the lock, whoever takes a position commits before the next taker gets the lock, so
 * positions commit in order: a reader that sees a position has seen every smaller one that
 * will ever exist (a rolled-back one never will).
 */
export async function recordFindingChanges(
  tx: Kysely<RegistryDatabase>,
  events: readonly { readonly header: EventHeader; readonly body: EventBody }[],
): Promise<void> {
  const changes: Pick<FindingChangeRow, 'finding_id' | 'origin' | 'seq' | 'change'>[] = [];
  for (const { header, body } of events) {
    const change = findingChangeOf(body);
    if (change) changes.push({ ...change, origin: header.origin, seq: header.seq });
  }
  if (changes.length === 0) return;
  const states = await findingStates(tx, events);
  await insertFindingChanges(
    tx,
    changes.map((change) => {
      const state = states.get(change.finding_id);
      if (!state) throw new Error(`finding ${change.finding_id} changed but is not held`);
      return { ...change, ...state };
    }),
  );
}

/**
 * The state each finding changed by `events` is left in, by id. A finding they only create
 * (most of a log a center catches up on) is as its FindingCreated gives it, with no read;
 * the others are read as the transaction now holds them.
 */
async function findingStates(
  tx: Kysely<RegistryDatabase>,
  events: readonly { readonly header: EventHeader; readonly body: EventBody }[],
): Promise<Map<string, ReturnType<typeof stateOf>>> {
  const created = new Map<string, FindingRow>();
  const touched = new Set<string>();
  for (const { header, body } of events) {
    const change = body.change;
    if (change.case === 'findingCreated') {
      const row = createdFindingRow(stampOf(header, body, false), change.value);
      const artifactIds = [...change.value.artifactIds].sort();
      created.set(row.id, { ...row, comment_count: 0, artifact_ids: artifactIds });
    } else {
      const id = findingChangeOf(body)?.finding_id;
      if (id !== undefined) touched.add(id);
    }
  }
  const read = [...touched];
  const rows = read.length > 0 ? await listFindings(tx, { ids: read }, read.length) : [];
  const fresh = [...created.values()].filter((row) => !touched.has(row.id));
  const links = await findingLinks(tx, [...fresh, ...rows]);
  const states = new Map<string, ReturnType<typeof stateOf>>();
  for (const row of [...fresh, ...rows]) states.set(row.id, stateOf(row, links.get(row.id)));
  return states;
}

/**
 * The finding as a change leaves it. Events applied in one transaction that touch one finding
 * (a batch from a peer) each record the state the whole batch leaves. The record is shared by
 * every watcher, whatever its scope, so it names no duplicates (a reader's scope filters
 * those); the effective status of a duplicate is kept, as every reader is shown it.
 */
function stateOf(
  row: FindingRow,
  links: FindingLinks | undefined,
): Pick<FindingChangeRow, 'status' | 'severity' | 'finding'> {
  const effectiveStatus = links?.effectiveStatus ?? row.status;
  return {
    status: row.status,
    severity: row.severity,
    finding: toBinary(FindingSchema, toFinding(row, { duplicates: [], effectiveStatus })),
  };
}

/** Whether applying `body` changes a finding. */
export function changesFinding(body: EventBody): boolean {
  return findingChangeOf(body) !== undefined;
}

function findingChangeOf(
  body: EventBody,
): Pick<FindingChangeRow, 'finding_id' | 'change'> | undefined {
  const change = body.change;
  switch (change.case) {
    case 'findingCreated':
      return { finding_id: change.value.findingId, change: 'created' };
    case 'findingUpdated':
      return { finding_id: change.value.findingId, change: 'updated' };
    case 'commentAdded':
      return { finding_id: change.value.findingId, change: 'commented' };
    case 'artifactPublished':
    case 'accessUsed':
      return undefined;
    case undefined:
      return undefined;
    default: {
      const unknown: never = change;
      throw new Error(`no finding change for event change ${String(unknown)}`);
    }
  }
}
