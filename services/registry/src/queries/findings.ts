import { afterCursor, type PageCursor } from '@vitrine/storage';
import { type Kysely, type RawBuilder, type Selectable, type SqlBool, sql } from 'kysely';
import { coveredBy, type ScopeLimit } from '../access/scope-filter.js';
import type { CommentTable, FindingTable, RegistryDatabase } from '../schema.js';
import { type OverdueCutoff, RUNNING_STATUSES } from '../service-levels.js';

type Db = Kysely<RegistryDatabase>;

/** The facts of a finding's artifacts a scope is checked against (ids from the link). */
const LINKED_ARTIFACT_COLUMNS = { kind: 'a.kind', product: 'a.product', id: 'fa.artifact_id' };

/** A finding row with the ids of the artifacts it concerns. */
export type FindingRow = Selectable<FindingTable> & { artifact_ids: string[] };

/** One finding with its artifact ids, or undefined. */
export async function findFinding(db: Db, id: string): Promise<FindingRow | undefined> {
  const row = await db.selectFrom('findings').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const [withArtifacts] = await attachArtifactIds(db, [row]);
  return withArtifacts;
}

/** Whether finding `id` is held here. */
export async function findingExists(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('findings').select('id').where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}

/** Locks finding `id`'s row for the rest of `tx` (nothing when it is not held). */
export async function lockFindingRow(tx: Db, id: string): Promise<void> {
  await tx.selectFrom('findings').select('id').where('id', '=', id).forUpdate().execute();
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

/** What a listing of findings keeps; every condition given must hold. */
export interface FindingFilter {
  readonly ids?: readonly string[];
  readonly artifactId?: string;
  /** Findings on at least one artifact of this product. */
  readonly product?: string;
  readonly status?: string;
  readonly severity?: string;
  /** Only findings with (true) or without (false) a candidate fix. */
  readonly candidateFix?: boolean;
  /** Only open findings triaged before the cutoff of their group (OverdueCutoff). */
  readonly overdue?: readonly OverdueCutoff[];
  readonly within?: ScopeLimit;
}

/**
 * The condition that a scope covers a finding of the `findings` table: every artifact it
 * concerns is covered (an artifact not held here is not, under a limit on its facts).
 */
export function findingCovered(within: ScopeLimit): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (
    select 1 from finding_artifacts as fa left join artifacts as a on a.id = fa.artifact_id
    where fa.finding_id = findings.id
      and not ${coveredBy(within, LINKED_ARTIFACT_COLUMNS)})`;
}

/** A page of findings, newest first, filtered, after the keyset cursor when given. */
export async function listFindings(
  db: Db,
  filter: FindingFilter,
  limit: number,
  after?: PageCursor,
): Promise<FindingRow[]> {
  let query = db.selectFrom('findings').selectAll('findings');
  if (filter.within) query = query.where(findingCovered(filter.within));
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
  if (filter.product) {
    const product = filter.product;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('finding_artifacts as fa')
          .innerJoin('artifacts as a', 'a.id', 'fa.artifact_id')
          .select('fa.finding_id')
          .whereRef('fa.finding_id', '=', 'findings.id')
          .where('a.product', '=', product),
      ),
    );
  }
  if (filter.ids) query = query.where('findings.id', 'in', [...filter.ids]);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.severity) query = query.where('severity', '=', filter.severity);
  if (filter.candidateFix) query = query.where('candidate_fix_artifact_id', '<>', '');
  if (filter.overdue) query = query.where(overdueIn(filter.overdue));
  if (after) query = query.where(afterCursor('created_hlc', after));
  const rows = await query
    .orderBy('created_hlc', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return attachArtifactIds(db, rows);
}

/**
 * Open findings triaged before their group's cutoff (a finding triaged before triage
 * clocks were kept counts from its creation, as ServiceLevels does).
 */
function overdueIn(cutoffs: readonly OverdueCutoff[]) {
  const triaged = sql`coalesce(findings.triaged_hlc, findings.created_hlc)`;
  const groups = cutoffs.map(
    (c) =>
      sql<boolean>`(findings.severity = ${c.severity} and array_to_string(findings.residency, ',') = ${c.residency.join(',')} and ${triaged} < ${c.triagedBefore}::int8)`,
  );
  const any = groups.length > 0 ? sql.join(groups, sql` or `) : sql`false`;
  return sql<boolean>`(findings.status in (${sql.join(RUNNING_STATUSES)}) and (${any}))`;
}

/** How many open findings are overdue (by their group's cutoff), by severity. */
export function countOverdue(db: Db, cutoffs: readonly OverdueCutoff[]) {
  return db
    .selectFrom('findings')
    .select(['severity', (eb) => eb.fn.countAll<string>().as('count')])
    .where(overdueIn(cutoffs))
    .groupBy('severity')
    .execute();
}

/** The distinct (severity, residency) of the open findings held here. */
export function openFindingGroups(db: Db): Promise<{ severity: string; residency: string[] }[]> {
  return db
    .selectFrom('findings')
    .select(['severity', 'residency'])
    .distinct()
    .where('status', 'in', [...RUNNING_STATUSES])
    .execute();
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

/** One comment by id; throws when it is not there (it was just written in `tx`). */
export function commentById(tx: Db, id: string): Promise<Selectable<CommentTable>> {
  return tx.selectFrom('comments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The version (HLC, origin) of every field of a finding as this center holds it, by field. */
export function fieldVersions(tx: Db, findingId: string) {
  return tx
    .selectFrom('finding_field_versions')
    .select(['field', 'hlc', 'origin'])
    .where('finding_id', '=', findingId)
    .orderBy('field')
    .execute();
}

/**
 * A finding with its history and comments, all as of one moment (one repeatable-read
 * snapshot); undefined when the finding is not held here.
 */
export function findingSnapshot(db: Db, id: string) {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      const row = await findFinding(tx, id);
      if (!row) return undefined;
      return {
        row,
        history: await findingHistory(tx, id),
        comments: await findingComments(tx, id),
      };
    });
}

/** When the status of each of `ids` was last written (its register's HLC), by finding id. */
export async function statusWrites(db: Db, ids: readonly string[]): Promise<Map<string, bigint>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('finding_field_versions')
    .select(['finding_id', 'hlc'])
    .where('field', '=', 'status')
    .where('finding_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.finding_id, r.hlc]));
}
