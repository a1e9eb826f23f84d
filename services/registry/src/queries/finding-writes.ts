import { type Insertable, type Kysely, sql } from 'kysely';
import type {
  CommentTable,
  FindingArtifactTable,
  FindingTable,
  RegistryDatabase,
} from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** A write's identity: the HLC and origin of the event that made it. */
export interface WriteClock {
  readonly hlc: bigint;
  readonly origin: string;
}

/** One event's entry in a finding's history. */
export interface HistoryEntry extends WriteClock {
  readonly findingId: string;
  readonly seq: bigint;
}

/**
 * Inserts new findings, their artifact links, every field's register (at the creating
 * event's clock) and their history entries: one statement per table, whatever their number.
 */
export async function insertFindings(
  tx: Db,
  rows: readonly Insertable<FindingTable>[],
  links: readonly Insertable<FindingArtifactTable>[],
  fields: readonly string[],
  history: readonly HistoryEntry[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insertInto('findings').values(rows).execute();
  if (links.length > 0) await tx.insertInto('finding_artifacts').values(links).execute();
  // Every field's register, and the history entry, from arrays: one parameter per column
  // instead of one per value (a register row per field makes seven rows per finding).
  const ids = history.map((h) => h.findingId);
  const origins = history.map((h) => h.origin);
  const hlcs = history.map((h) => String(h.hlc));
  await sql`
    insert into finding_field_versions (finding_id, field, hlc, origin)
    select f.id, field, f.hlc, f.origin
    from unnest(${ids}::text[], ${hlcs}::int8[], ${origins}::text[]) as f (id, hlc, origin)
    cross join unnest(${[...fields]}::text[]) as field
  `.execute(tx);
  const seqs = history.map((h) => String(h.seq));
  await sql`
    insert into finding_history (finding_id, origin, seq, hlc, overwritten_fields)
    select id, origin, seq, hlc, '{}'
    from unnest(${ids}::text[], ${origins}::text[], ${seqs}::int8[], ${hlcs}::int8[])
      as f (id, origin, seq, hlc)
  `.execute(tx);
}

/** Links findings to artifacts; a link already held is left as it is. */
export async function insertFindingArtifacts(
  tx: Db,
  links: readonly Insertable<FindingArtifactTable>[],
): Promise<void> {
  if (links.length === 0) return;
  await tx
    .insertInto('finding_artifacts')
    .values(links)
    .onConflict((oc) => oc.columns(['finding_id', 'artifact_id']).doNothing())
    .execute();
}

/** Adds one event to a finding's history, flagging no field as overwritten yet. */
export async function insertHistory(tx: Db, entry: HistoryEntry): Promise<void> {
  await tx
    .insertInto('finding_history')
    .values({
      finding_id: entry.findingId,
      origin: entry.origin,
      seq: entry.seq,
      hlc: entry.hlc,
      overwritten_fields: [],
    })
    .execute();
}

/** Every field register of a finding (the version of the value it holds). */
export function fieldRegisters(tx: Db, findingId: string) {
  return tx
    .selectFrom('finding_field_versions')
    .selectAll()
    .where('finding_id', '=', findingId)
    .execute();
}

/** Moves a field's register to the version of the write now holding it. */
export async function setFieldRegister(
  tx: Db,
  findingId: string,
  field: string,
  clock: WriteClock,
): Promise<void> {
  await tx
    .updateTable('finding_field_versions')
    .set({ hlc: clock.hlc, origin: clock.origin })
    .where('finding_id', '=', findingId)
    .where('field', '=', field)
    .execute();
}

/** Sets a finding's field values and moves its last update to `hlc` unless later already. */
export async function updateFindingFields(
  tx: Db,
  findingId: string,
  values: Partial<Record<string, string | number | null>>,
  hlc: bigint,
): Promise<void> {
  await tx
    .updateTable('findings')
    .set({ ...values, updated_hlc: sql`greatest(updated_hlc, ${hlc}::int8)` })
    .where('id', '=', findingId)
    .execute();
}

/** Moves a status milestone clock to `hlc` when that is earlier (or later) than the one held. */
export async function recordStatusMilestone(
  tx: Db,
  findingId: string,
  column: 'triaged_hlc' | 'fixed_hlc',
  keep: 'earliest' | 'latest',
  hlc: bigint,
): Promise<void> {
  const pick = keep === 'earliest' ? sql`least` : sql`greatest`;
  await tx
    .updateTable('findings')
    .set({ [column]: sql`coalesce(${pick}(${sql.ref(column)}, ${hlc}::int8), ${hlc}::int8)` })
    .where('id', '=', findingId)
    .execute();
}

/** Inserts a comment and counts it on its finding, moving the finding's last update. */
export async function insertComment(tx: Db, row: Insertable<CommentTable>): Promise<void> {
  await tx.insertInto('comments').values(row).execute();
  await tx
    .updateTable('findings')
    .set((eb) => ({
      comment_count: eb('comment_count', '+', 1),
      updated_hlc: sql`greatest(updated_hlc, ${row.hlc}::int8)`,
    }))
    .where('id', '=', row.finding_id)
    .execute();
}

/** Records one write of a finding field, with the write its author saw (idempotent). */
export async function insertFieldWrite(
  tx: Db,
  findingId: string,
  field: string,
  write: WriteClock,
  seen: WriteClock,
): Promise<void> {
  await tx
    .insertInto('finding_field_writes')
    .values({
      finding_id: findingId,
      field,
      hlc: write.hlc,
      origin: write.origin,
      seen_hlc: seen.hlc,
      seen_origin: seen.origin,
    })
    .onConflict((oc) => oc.columns(['finding_id', 'field', 'hlc', 'origin']).doNothing())
    .execute();
}

/** Every write of one field of a finding. */
export function fieldWrites(tx: Db, findingId: string, field: string) {
  return tx
    .selectFrom('finding_field_writes')
    .selectAll()
    .where('finding_id', '=', findingId)
    .where('field', '=', field)
    .execute();
}

/** Adds or removes `field` in a history entry's overwritten fields, kept sorted. */
export async function setOverwritten(
  tx: Db,
  findingId: string,
  w: WriteClock,
  field: string,
  on: boolean,
): Promise<void> {
  const without = sql<string[]>`array_remove(overwritten_fields, ${field})`;
  const next = on ? sql<string[]>`${without} || array[${field}]::text[]` : without;
  await tx
    .updateTable('finding_history')
    .set({
      overwritten_fields: sql<string[]>`array(select f from unnest(${next}) as f order by f)`,
    })
    .where('finding_id', '=', findingId)
    .where('hlc', '=', w.hlc)
    .where('origin', '=', w.origin)
    .execute();
}
