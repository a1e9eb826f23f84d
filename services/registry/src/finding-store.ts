import { VitrineError } from '@vitrine/errors';
import { enumWord } from '@vitrine/proto/enum-words';
import {
  type CommentAdded,
  type FindingCreated,
  FindingStatus,
  FindingStatusSchema,
  type FindingUpdated,
  SeveritySchema,
} from '@vitrine/proto/finding';
import type { PageCursor } from '@vitrine/storage';
import { type Kysely, type Selectable, sql } from 'kysely';
import { coveredBy, type ScopeLimit } from './access/scope-filter.js';
import type { EventStamp } from './apply-event.js';
import { later, NO_WRITE, recordFieldWrite } from './field-conflicts.js';
import type { CommentTable, FindingTable, RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase>;

/** The facts of a finding's artifacts a scope is checked against (ids from the link). */
const LINKED_ARTIFACT_COLUMNS = { kind: 'a.kind', product: 'a.product', id: 'fa.artifact_id' };

/** A finding row with the ids of the artifacts it concerns. */
export type FindingRow = Selectable<FindingTable> & { artifact_ids: string[] };

/** The finding fields that are last-writer-wins registers, by column name. */
export const FINDING_FIELDS = [
  'title',
  'description',
  'severity',
  'cvss_vector',
  'status',
  'assignee',
  'fix_artifact_id',
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
  await tx
    .insertInto('findings')
    .values(
      created.map(({ at, body }) => ({
        id: body.findingId,
        origin: at.origin,
        number: findingNumber(at.origin, body.findingId),
        title: body.title,
        description: body.description,
        severity: enumWord(SeveritySchema, body.severity) ?? '',
        cvss_vector: body.cvssVector,
        status: enumWord(FindingStatusSchema, FindingStatus.NEW) ?? 'new',
        assignee: '',
        fix_artifact_id: '',
        residency: [...at.residency],
        created_hlc: at.hlc,
        updated_hlc: at.hlc,
      })),
    )
    .execute();
  const links = created.flatMap(({ body }) =>
    body.artifactIds.map((artifact_id) => ({ finding_id: body.findingId, artifact_id })),
  );
  if (links.length > 0) await tx.insertInto('finding_artifacts').values(links).execute();
  // Every field's register, and the history entry, from arrays: one parameter per column
  // instead of one per value (a register row per field makes seven rows per finding).
  const ids = created.map(({ body }) => body.findingId);
  const origins = created.map(({ at }) => at.origin);
  const hlcs = created.map(({ at }) => String(at.hlc));
  await sql`
    insert into finding_field_versions (finding_id, field, hlc, origin)
    select f.id, field, f.hlc, f.origin
    from unnest(${ids}::text[], ${hlcs}::int8[], ${origins}::text[]) as f (id, hlc, origin)
    cross join unnest(${[...FINDING_FIELDS]}::text[]) as field
  `.execute(tx);
  const seqs = created.map(({ at }) => String(at.seq));
  await sql`
    insert into finding_history (finding_id, origin, seq, hlc, overwritten_fields)
    select id, origin, seq, hlc, '{}'
    from unnest(${ids}::text[], ${origins}::text[], ${seqs}::int8[], ${hlcs}::int8[])
      as f (id, origin, seq, hlc)
  `.execute(tx);
}

/** The number of the next finding `origin` creates: one past its highest. */
export async function nextFindingNumber(db: Db, origin: string): Promise<bigint> {
  const { highest } = await db
    .selectFrom('findings')
    .select((eb) => eb.fn.max('number').as('highest'))
    .where('origin', '=', origin)
    .executeTakeFirstOrThrow();
  return BigInt(highest ?? 0) + 1n;
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
  const versions = await tx
    .selectFrom('finding_field_versions')
    .selectAll()
    .where('finding_id', '=', body.findingId)
    .execute();
  await recordHistory(tx, body.findingId, at, []);
  const changes: Partial<Record<FindingField, string>> = {};
  for (const [field, value] of Object.entries(updatedValues(body)) as [FindingField, string][]) {
    const seen = body.seen.find((v) => v.field === field) ?? NO_WRITE;
    await recordFieldWrite(tx, body.findingId, field, at, seen);
    const current = versions.find((v) => v.field === field);
    if (current && !later(at, current)) continue;
    changes[field] = value;
    await tx
      .updateTable('finding_field_versions')
      .set(clock(at))
      .where('finding_id', '=', body.findingId)
      .where('field', '=', field)
      .execute();
  }
  await tx
    .updateTable('findings')
    .set({ ...changes, updated_hlc: sql`greatest(updated_hlc, ${at.hlc}::int8)` })
    .where('id', '=', body.findingId)
    .execute();
}

/** Adds a comment (comments are add-only, so they never conflict). */
export async function applyCommentAdded(tx: Db, at: EventStamp, body: CommentAdded): Promise<void> {
  await requireFinding(tx, body.findingId);
  await tx
    .insertInto('comments')
    .values({
      id: body.commentId,
      finding_id: body.findingId,
      text: body.text,
      author: at.actor,
      origin: at.origin,
      hlc: at.hlc,
    })
    .execute();
  await tx
    .updateTable('findings')
    .set((eb) => ({
      comment_count: eb('comment_count', '+', 1),
      updated_hlc: sql`greatest(updated_hlc, ${at.hlc}::int8)`,
    }))
    .where('id', '=', body.findingId)
    .execute();
  await recordHistory(tx, body.findingId, at, []);
}

/** The storage words of the fields an update sets. */
function updatedValues(body: FindingUpdated): Partial<Record<FindingField, string>> {
  const values: Partial<Record<FindingField, string>> = {};
  if (body.title !== undefined) values.title = body.title;
  if (body.description !== undefined) values.description = body.description;
  if (body.severity !== undefined) values.severity = enumWord(SeveritySchema, body.severity) ?? '';
  if (body.cvssVector !== undefined) values.cvss_vector = body.cvssVector;
  if (body.status !== undefined) values.status = enumWord(FindingStatusSchema, body.status) ?? '';
  if (body.assignee !== undefined) values.assignee = body.assignee;
  if (body.fixArtifactId !== undefined) values.fix_artifact_id = body.fixArtifactId;
  return values;
}

function clock(at: EventStamp) {
  return { hlc: at.hlc, origin: at.origin };
}

async function recordHistory(tx: Db, findingId: string, at: EventStamp, overwritten: string[]) {
  await tx
    .insertInto('finding_history')
    .values(historyRow(findingId, at, overwritten))
    .execute();
}

function historyRow(findingId: string, at: EventStamp, overwritten: string[]) {
  return {
    finding_id: findingId,
    origin: at.origin,
    seq: at.seq,
    hlc: at.hlc,
    overwritten_fields: overwritten,
  };
}

async function requireFinding(tx: Db, id: string): Promise<void> {
  const row = await tx.selectFrom('findings').select('id').where('id', '=', id).executeTakeFirst();
  if (!row) throw new VitrineError('failed_precondition', `finding ${id} is not known here yet`);
}

/** One finding with its artifact ids, or undefined. */
export async function findFinding(db: Db, id: string): Promise<FindingRow | undefined> {
  const row = await db.selectFrom('findings').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [withArtifacts] = await attachArtifactIds(db, [row]);
  return withArtifacts;
}

/** A page of findings, newest first, filtered, after the keyset cursor when given. */
export async function listFindings(
  db: Db,
  filter: { artifactId?: string; status?: string; severity?: string; within?: ScopeLimit },
  limit: number,
  after?: PageCursor,
): Promise<FindingRow[]> {
  let query = db.selectFrom('findings').selectAll('findings');
  if (filter.within) {
    // A finding is covered when every artifact it concerns is.
    const within = filter.within;
    query = query.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('finding_artifacts as fa')
            .leftJoin('artifacts as a', 'a.id', 'fa.artifact_id')
            .select('fa.finding_id')
            .whereRef('fa.finding_id', '=', 'findings.id')
            .where(sql<boolean>`not ${coveredBy(within, LINKED_ARTIFACT_COLUMNS)}`),
        ),
      ),
    );
  }
  if (filter.artifactId) {
    const artifactId = filter.artifactId;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('finding_artifacts as fa')
          .select('fa.finding_id')
          .whereRef('fa.finding_id', '=', 'findings.id')
          .where('fa.artifact_id', '=', artifactId),
      ),
    );
  }
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.severity) query = query.where('severity', '=', filter.severity);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('created_hlc', '<', after.order),
        eb.and([eb('created_hlc', '=', after.order), eb('id', '<', after.id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('created_hlc', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return attachArtifactIds(db, rows);
}

async function attachArtifactIds(db: Db, rows: Selectable<FindingTable>[]): Promise<FindingRow[]> {
  if (rows.length === 0) return [];
  const links = await db
    .selectFrom('finding_artifacts')
    .selectAll()
    .where(
      'finding_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('artifact_id')
    .execute();
  return rows.map((r) => ({
    ...r,
    artifact_ids: links.filter((l) => l.finding_id === r.id).map((l) => l.artifact_id),
  }));
}

/** A finding's history: the events that touched it with their bytes, in (HLC, origin) order. */
export function findingHistory(db: Db, findingId: string) {
  return db
    .selectFrom('finding_history as h')
    .innerJoin('events as e', (join) =>
      join.onRef('e.origin', '=', 'h.origin').onRef('e.seq', '=', 'h.seq'),
    )
    .select(['h.origin', 'h.seq', 'h.hlc', 'h.overwritten_fields', 'e.body'])
    .where('h.finding_id', '=', findingId)
    .orderBy('h.hlc')
    .orderBy('h.origin')
    .execute();
}

/** A finding's comments, oldest first. */
export function findingComments(db: Db, findingId: string): Promise<Selectable<CommentTable>[]> {
  return db
    .selectFrom('comments')
    .selectAll()
    .where('finding_id', '=', findingId)
    .orderBy('hlc')
    .orderBy('origin')
    .execute();
}
