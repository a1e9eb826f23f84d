import { VitrineError } from '@vitrine/errors';
import { findingStatuses, severities } from '@vitrine/proto/enum-words';
import {
  type CommentAdded,
  type FindingCreated,
  FindingStatus,
  type FindingUpdated,
} from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import { locationsColumn } from '../finding-locations.js';
import {
  fieldRegisters,
  insertComment,
  insertFindingArtifacts,
  insertFindings,
  insertHistory,
  recordStatusMilestone,
  setFieldRegister,
  updateFindingFields,
} from '../queries/finding-writes.js';
import { findingExists } from '../queries/findings.js';
import type { RegistryDatabase } from '../schema.js';
import type { EventStamp } from './event-stamp.js';
import { later, NO_WRITE, recordFieldWrite } from './field-conflicts.js';

type Db = Kysely<RegistryDatabase>;

/** The finding fields that are last-writer-wins registers, by column name. */
export const FINDING_FIELDS = [
  'title',
  'description',
  'severity',
  'cvss_vector',
  'status',
  'assignee',
  'fix_artifact_id',
  'duplicate_of',
  'candidate_fix_artifact_id',
  'locations',
  'disclose_after',
] as const;
export type FindingField = (typeof FINDING_FIELDS)[number];

/** Records a new finding; every field's register starts at the creating event's clock. */
export function applyFindingCreated(tx: Db, at: EventStamp, body: FindingCreated): Promise<void> {
  return applyFindingsCreated(tx, [{ at, body }]);
}

/**
 * Records new findings with one insert per table, whatever their number: what a center
 * catching up on a peer's log spends per finding is then close to a raw batched insert.
 * Findings are independent of each other, so this equals applying them one by one.
 */
export async function applyFindingsCreated(
  tx: Db,
  created: readonly { at: EventStamp; body: FindingCreated }[],
): Promise<void> {
  if (created.length === 0) return;
  for (const { at, body } of created) assertOwnId(at, body.findingId);
  const rows = created.map(({ at, body }) => createdFindingRow(at, body));
  const links = created.flatMap(({ body }) =>
    body.artifactIds.map((artifact_id) => ({ finding_id: body.findingId, artifact_id })),
  );
  const history = created.map(({ at, body }) => historyEntry(body.findingId, at));
  await insertFindings(tx, rows, links, FINDING_FIELDS, history);
}

/** The row a FindingCreated records: the finding as the event gives it, status new. */
export function createdFindingRow(at: EventStamp, body: FindingCreated) {
  return {
    id: body.findingId,
    origin: at.origin,
    number: findingNumber(at.origin, body.findingId),
    title: body.title,
    description: body.description,
    severity: severities.word(body.severity) ?? '',
    cvss_vector: body.cvssVector,
    cvss_score: body.cvssVector === '' ? null : (body.cvssScore ?? null),
    severity_reason: body.severityReason,
    status: findingStatuses.word(FindingStatus.NEW) ?? 'new',
    assignee: '',
    fix_artifact_id: '',
    disclose_after: body.discloseAfter,
    residency: [...at.residency],
    rule_id: body.ruleId,
    tool: body.tool,
    fingerprint: body.fingerprint,
    locations: locationsColumn(body.locations),
    duplicate_of: '',
    candidate_fix_artifact_id: '',
    triaged_hlc: null,
    fixed_hlc: null,
    created_hlc: at.hlc,
    updated_hlc: at.hlc,
  };
}

/** Links a finding to more artifacts: an add-only set, so concurrent additions all hold. */
function linkArtifacts(tx: Db, findingId: string, artifactIds: readonly string[]): Promise<void> {
  return insertFindingArtifacts(
    tx,
    artifactIds.map((artifact_id) => ({ finding_id: findingId, artifact_id })),
  );
}

/**
 * Refuses a finding whose id is outside its origin's (`<origin>-…`): one center minting
 * another's ids would take a number that center is about to give its own next finding.
 */
function assertOwnId(at: EventStamp, findingId: string): void {
  if (findingId.startsWith(`${at.origin}-`)) return;
  throw new VitrineError(
    'data_loss',
    `FindingCreated ${at.origin}/${at.seq} names finding ${findingId}, not an id of ${at.origin}`,
  );
}

/** The number in a finding id `<origin>-<number>`; null for an id not of that form. */
function findingNumber(origin: string, id: string): bigint | null {
  const prefix = `${origin}-`;
  const digits = id.slice(prefix.length);
  return id.startsWith(prefix) && /^[1-9][0-9]{0,17}$/.test(digits) ? BigInt(digits) : null;
}

/**
 * Applies a field update as last-writer-wins per field, ordered by (HLC, origin). Every
 * write stays in history; one replaced by a concurrent write is flagged (field-conflicts.ts).
 */
export async function applyFindingUpdated(
  tx: Db,
  at: EventStamp,
  body: FindingUpdated,
): Promise<void> {
  await requireFinding(tx, body.findingId);
  const registers = await fieldRegisters(tx, body.findingId);
  await insertHistory(tx, historyEntry(body.findingId, at));
  await linkArtifacts(tx, body.findingId, body.addedArtifactIds);
  const changes: Partial<Record<FindingField | CompanionColumn, string | number | null>> = {};
  for (const [field, value] of Object.entries(updatedValues(body)) as [FindingField, string][]) {
    const seen = body.seen.find((v) => v.field === field) ?? NO_WRITE;
    await recordFieldWrite(tx, body.findingId, field, at, seen);
    const current = registers.find((v) => v.field === field);
    if (current && !later(at, current)) continue;
    changes[field] = value;
    Object.assign(changes, companionsOf(field, body));
    await setFieldRegister(tx, body.findingId, field, at);
  }
  await updateFindingFields(tx, body.findingId, changes, at.hlc);
  await recordMilestone(tx, at, body);
}

/**
 * Keeps the clock of the first triage and of the latest fix, whether or not the status
 * write wins its register: the earliest and the latest of a set of events are the same in
 * whatever order a center applies them, so every center derives the same service level.
 */
async function recordMilestone(tx: Db, at: EventStamp, body: FindingUpdated): Promise<void> {
  if (body.status === FindingStatus.TRIAGED) {
    await recordStatusMilestone(tx, body.findingId, 'triaged_hlc', 'earliest', at.hlc);
  } else if (body.status === FindingStatus.FIXED) {
    await recordStatusMilestone(tx, body.findingId, 'fixed_hlc', 'latest', at.hlc);
  }
}

/** Adds a comment (comments are add-only, so they never conflict). */
export async function applyCommentAdded(tx: Db, at: EventStamp, body: CommentAdded): Promise<void> {
  await requireFinding(tx, body.findingId);
  await insertComment(tx, {
    id: body.commentId,
    finding_id: body.findingId,
    text: body.text,
    author: at.actor,
    origin: at.origin,
    hlc: at.hlc,
  });
  await insertHistory(tx, historyEntry(body.findingId, at));
}

/**
 * Columns written together with a field's register and won or lost with it: a vector's
 * score goes with the vector, the reason for a severity with the severity.
 */
type CompanionColumn = 'cvss_score' | 'severity_reason';

function companionsOf(
  field: FindingField,
  body: FindingUpdated,
): Partial<Record<CompanionColumn, string | number | null>> {
  if (field === 'cvss_vector') {
    return { cvss_score: body.cvssVector === '' ? null : (body.cvssScore ?? null) };
  }
  if (field === 'severity') return { severity_reason: body.severityReason ?? '' };
  return {};
}

/** The storage words of the fields an update sets. */
function updatedValues(body: FindingUpdated): Partial<Record<FindingField, string>> {
  const values: Partial<Record<FindingField, string>> = {};
  if (body.title !== undefined) values.title = body.title;
  if (body.description !== undefined) values.description = body.description;
  if (body.severity !== undefined) values.severity = severities.word(body.severity) ?? '';
  if (body.cvssVector !== undefined) values.cvss_vector = body.cvssVector;
  if (body.status !== undefined) values.status = findingStatuses.word(body.status) ?? '';
  if (body.assignee !== undefined) values.assignee = body.assignee;
  if (body.fixArtifactId !== undefined) values.fix_artifact_id = body.fixArtifactId;
  if (body.duplicateOf !== undefined) values.duplicate_of = body.duplicateOf;
  if (body.candidateFixArtifactId !== undefined) {
    values.candidate_fix_artifact_id = body.candidateFixArtifactId;
  }
  if (body.locations !== undefined) values.locations = locationsColumn(body.locations.items);
  if (body.discloseAfter !== undefined) values.disclose_after = body.discloseAfter;
  return values;
}

function historyEntry(findingId: string, at: EventStamp) {
  return { findingId, origin: at.origin, seq: at.seq, hlc: at.hlc };
}

async function requireFinding(tx: Db, id: string): Promise<void> {
  if (!(await findingExists(tx, id))) {
    throw new VitrineError('failed_precondition', `finding ${id} is not known here yet`);
  }
}
