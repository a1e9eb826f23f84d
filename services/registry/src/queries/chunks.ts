import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** A chunk written to the store, to be recorded as held. */
export interface StoredChunk {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** Whether any artifact is replicating here. */
export async function anyReplicating(db: Db): Promise<boolean> {
  const row = await db
    .selectFrom('artifacts')
    .select('id')
    .where('state', '=', 'replicating')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Every artifact replicating here, with what completing it needs. */
export function replicatingArtifacts(db: Db) {
  return db
    .selectFrom('artifacts')
    .select(['id', 'chunk_count', 'content_digest', 'size', 'bytes_held'])
    .where('state', '=', 'replicating')
    .execute();
}

/** A version replicating here, and the version it supersedes that this center holds whole. */
export interface VersionPair {
  readonly next: string;
  readonly previous: string;
}

/** Every artifact replicating here whose superseded version is available here. */
export function replicatingPairs(db: Db): Promise<VersionPair[]> {
  return db
    .selectFrom('artifacts as a')
    .innerJoin('artifacts as old', 'old.id', 'a.supersedes')
    .select(['a.id as next', 'old.id as previous'])
    .where('a.state', '=', 'replicating')
    .where('old.state', '=', 'available')
    .execute();
}

/** Every use of a chunk not recorded here by an artifact replicating here. */
function unrecordedUses(db: Db) {
  return db
    .selectFrom('artifact_chunks as ac')
    .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
    .leftJoin('chunks as c', 'c.digest', 'ac.digest')
    .select('ac.digest')
    .where('a.state', '=', 'replicating')
    .where('c.digest', 'is', null);
}

/**
 * Up to `limit` uses of chunks not recorded here by artifacts replicating here, in the
 * order of the artifacts' content (oldest artifact first); a chunk used twice comes twice.
 */
export async function unrecordedInContentOrder(db: Db, limit: number): Promise<Uint8Array[]> {
  const rows = await unrecordedUses(db)
    .orderBy('a.published_hlc')
    .orderBy('a.id')
    .orderBy('ac.idx')
    .limit(limit)
    .execute();
  return rows.map((r) => r.digest);
}

/** Unrecorded chunks of replicating artifacts, each once, in digest order past `after`. */
export async function unrecordedByDigest(
  db: Db,
  limit: number,
  after?: Uint8Array,
): Promise<Uint8Array[]> {
  let query = unrecordedUses(db).distinct();
  if (after !== undefined) query = query.where('ac.digest', '>', after);
  const rows = await query.orderBy('ac.digest').limit(limit).execute();
  return rows.map((r) => r.digest);
}

/** The residency of every artifact using each of `digests` (one row per use). */
export function chunkUses(db: Db, digests: readonly Uint8Array[]) {
  if (digests.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('artifact_chunks as ac')
    .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
    .select(['ac.digest', 'a.residency'])
    .where('ac.digest', 'in', [...digests])
    .execute();
}

/**
 * Records chunks as held (idempotent) and adds the bytes of those newly recorded to every
 * replicating artifact that uses them — once per use, as a recount would. One statement,
 * so one round trip and atomic without a transaction of its own; only the statement that
 * records a chunk counts it, so concurrent ones never count it twice.
 */
export async function recordHeld(db: Db, chunks: readonly StoredChunk[]): Promise<void> {
  await db
    .with('recorded', (db) =>
      db
        .insertInto('chunks')
        .values(chunks.map((c) => ({ digest: c.digest, size: c.size })))
        .onConflict((oc) => oc.column('digest').doNothing())
        .returning('digest'),
    )
    .with('added', (db) =>
      db
        .selectFrom('artifact_chunks')
        .select(['artifact_id', sql<bigint>`sum(size)::int8`.as('bytes')])
        .where('digest', 'in', db.selectFrom('recorded').select('digest'))
        .groupBy('artifact_id'),
    )
    .updateTable('artifacts')
    .from('added')
    .set((eb) => ({ bytes_held: eb('artifacts.bytes_held', '+', eb.ref('added.bytes')) }))
    .whereRef('artifacts.id', '=', 'added.artifact_id')
    .where('artifacts.state', '=', 'replicating')
    .execute();
}
