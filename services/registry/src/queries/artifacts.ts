import type { ChunkRef } from '@vitrine/proto/artifact';
import { afterCursor, type PageCursor } from '@vitrine/storage';
import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import { coveredBy, type ScopeLimit } from '../access/scope-filter.js';
import type { ChunkEntries } from '../chunk-list.js';
import type { ArtifactTable, RegistryDatabase } from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** The artifact facts a scope is checked against, in the artifacts table. */
const ARTIFACT_COLUMNS = {
  kind: 'artifacts.kind',
  product: 'artifacts.product',
  id: 'artifacts.id',
};

/** Rows of artifact_chunks and chunks are inserted this many at a time. */
const CHUNK_ROWS_PER_INSERT = 1000;

/** The artifact row, as queries return it. */
export type ArtifactRow = Selectable<ArtifactTable>;

/**
 * Inserts an artifact row unless one with its id is there; whether it was inserted. The
 * same content and metadata published at two centers is one artifact: the first
 * publication to arrive is kept.
 */
export async function insertArtifact(tx: Db, row: Insertable<ArtifactTable>): Promise<boolean> {
  const inserted = await tx
    .insertInto('artifacts')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return inserted.numInsertedOrUpdatedRows !== 0n;
}

/** Inserts an artifact's chunk list in content order, a batch at a time as `refs` yields. */
export async function insertArtifactChunks(
  tx: Db,
  artifactId: string,
  refs: Iterable<ChunkRef>,
): Promise<void> {
  let idx = 0;
  let offset = 0n;
  for (const batch of batchesOf(refs, CHUNK_ROWS_PER_INSERT)) {
    const rows = batch.map(({ digest, size }) => {
      const row = { artifact_id: artifactId, idx: idx++, digest, size, offset };
      offset += BigInt(size);
      return row;
    });
    await tx.insertInto('artifact_chunks').values(rows).execute();
  }
}

/** `items` in arrays of `size` (the last one shorter), taken as they come. */
function* batchesOf<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Recomputes how many bytes of an artifact this center holds. Only an upload, which hashed
 * the whole content as it arrived, may mark the artifact available here (`verified`); one
 * published elsewhere stays replicating until its whole content has been verified too.
 */
export async function refreshArtifactHoldings(
  tx: Db,
  artifactId: string,
  verified = false,
): Promise<void> {
  await tx
    .updateTable('artifacts')
    .set((eb) => ({
      bytes_held: eb
        .selectFrom('artifact_chunks as ac')
        .innerJoin('chunks as c', 'c.digest', 'ac.digest')
        .where('ac.artifact_id', '=', artifactId)
        .select(sql<bigint>`coalesce(sum(ac.size), 0)::int8`.as('held')),
    }))
    .where('id', '=', artifactId)
    .execute();
  if (verified) await markAvailable(tx, artifactId);
}

/** Marks an artifact available once every byte is held and its whole content verified. */
export async function markAvailable(tx: Db, artifactId: string): Promise<void> {
  await tx
    .updateTable('artifacts')
    .set({ state: 'available' })
    .where('id', '=', artifactId)
    .whereRef('bytes_held', '=', 'size')
    .execute();
}

/** Records chunks now held in this center's chunk store (idempotent). */
export async function recordChunks(tx: Db, chunks: ChunkEntries): Promise<void> {
  for (const batch of batchesOf(chunks, CHUNK_ROWS_PER_INSERT)) {
    await tx
      .insertInto('chunks')
      .values(batch.map(({ digest, size }) => ({ digest, size })))
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }
}

/** One artifact by id, or undefined. */
export function findArtifact(db: Db, id: string): Promise<ArtifactRow | undefined> {
  return db.selectFrom('artifacts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The id, kind, product, version and residency of those of `ids` this center holds. */
export function artifactsIn(
  db: Db,
  ids: readonly string[],
): Promise<Pick<ArtifactRow, 'id' | 'kind' | 'product' | 'version' | 'residency'>[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('artifacts')
    .select(['id', 'kind', 'product', 'version', 'residency'])
    .where('id', 'in', ids)
    .execute();
}

/** A page of artifacts, newest first, after the keyset cursor when given. */
export function listArtifacts(
  db: Db,
  filter: { kind?: string; product?: string; idPrefix?: string; within?: ScopeLimit },
  limit: number,
  after?: PageCursor,
): Promise<ArtifactRow[]> {
  let query = db.selectFrom('artifacts').selectAll();
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.product) query = query.where('product', '=', filter.product);
  // The prefix is hex digits only (checked by the caller), so it holds no LIKE wildcard.
  if (filter.idPrefix) query = query.where('id', 'like', `${filter.idPrefix}%`);
  if (filter.within) query = query.where(coveredBy(filter.within, ARTIFACT_COLUMNS));
  if (after) query = query.where(afterCursor('published_hlc', after));
  return query.orderBy('published_hlc', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** The chunk list of an artifact, in content order, a page at a time. */
export function artifactChunkPage(
  db: Db,
  artifactId: string,
  fromIdx: number,
  limit: number,
): Promise<{ idx: number; digest: Uint8Array; size: number }[]> {
  return db
    .selectFrom('artifact_chunks')
    .select(['idx', 'digest', 'size'])
    .where('artifact_id', '=', artifactId)
    .where('idx', '>=', fromIdx)
    .orderBy('idx')
    .limit(limit)
    .execute();
}
