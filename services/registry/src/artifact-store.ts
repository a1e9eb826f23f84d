import { fromBinary } from '@bufbuild/protobuf';
import { VitrineError } from '@vitrine/errors';
import {
  type ArtifactKind,
  ArtifactKindSchema,
  type Manifest,
  ManifestSchema,
} from '@vitrine/proto/artifact';
import { enumWord } from '@vitrine/proto/enum-words';
import type { ArtifactPublished } from '@vitrine/proto/event';
import type { PageCursor } from '@vitrine/storage';
import { type Kysely, type Selectable, sql } from 'kysely';
import { coveredBy, type ScopeLimit } from './access/scope-filter.js';
import type { EventStamp } from './apply-event.js';
import type { ArtifactTable, RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase>;

/** The artifact facts a scope is checked against, in the artifacts table. */
const ARTIFACT_COLUMNS = {
  kind: 'artifacts.kind',
  product: 'artifacts.product',
  id: 'artifacts.id',
};

/** Rows of artifact_chunks are inserted this many at a time. */
const CHUNK_ROWS_PER_INSERT = 1000;

/** The artifact row, as queries return it. */
export type ArtifactRow = Selectable<ArtifactTable>;

/** Records a published artifact: its row, its chunk list, and what this center holds of it. */
export async function applyArtifactPublished(
  tx: Db,
  at: EventStamp,
  body: ArtifactPublished,
): Promise<void> {
  const manifest = decodeManifest(at, body.manifest);
  const inserted = await tx
    .insertInto('artifacts')
    .values({
      id: body.artifactId,
      kind: kindWord(manifest.kind),
      product: manifest.product,
      version: manifest.version,
      size: manifest.size,
      content_digest: manifest.contentDigest,
      chunk_count: manifest.chunks.length,
      residency: manifest.residency,
      supersedes: manifest.supersedes,
      origin: at.origin,
      published_hlc: at.hlc,
      manifest: body.manifest,
      manifest_signature: body.manifestSignature,
      state: 'replicating',
      bytes_held: 0n,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  // The same content and metadata published at two centers is one artifact: the first
  // publication to arrive is kept.
  if (inserted.numInsertedOrUpdatedRows === 0n) return;
  let offset = 0n;
  for (let start = 0; start < manifest.chunks.length; start += CHUNK_ROWS_PER_INSERT) {
    const rows = manifest.chunks.slice(start, start + CHUNK_ROWS_PER_INSERT).map((chunk, i) => {
      const row = {
        artifact_id: body.artifactId,
        idx: start + i,
        digest: chunk.digest,
        size: chunk.size,
        offset,
      };
      offset += BigInt(chunk.size);
      return row;
    });
    await tx.insertInto('artifact_chunks').values(rows).execute();
  }
  await refreshArtifactHoldings(tx, body.artifactId, at.local);
}

/** The manifest an ArtifactPublished event carries; `data_loss` when it does not decode. */
function decodeManifest(at: EventStamp, bytes: Uint8Array): Manifest {
  if (bytes.length === 0) {
    throw new VitrineError('data_loss', `ArtifactPublished ${at.origin}/${at.seq} has no manifest`);
  }
  try {
    return fromBinary(ManifestSchema, bytes);
  } catch (cause) {
    throw new VitrineError(
      'data_loss',
      `ArtifactPublished ${at.origin}/${at.seq} carries a manifest that does not decode`,
      { cause },
    );
  }
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
export async function recordChunks(
  tx: Db,
  chunks: readonly { digest: Uint8Array; size: number }[],
): Promise<void> {
  for (let start = 0; start < chunks.length; start += CHUNK_ROWS_PER_INSERT) {
    const rows = chunks.slice(start, start + CHUNK_ROWS_PER_INSERT);
    await tx
      .insertInto('chunks')
      .values(rows.map((c) => ({ digest: c.digest, size: c.size })))
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }
}

/** One artifact by id, or undefined. */
export function findArtifact(db: Db, id: string): Promise<ArtifactRow | undefined> {
  return db.selectFrom('artifacts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page of artifacts, newest first, after the keyset cursor when given. */
export function listArtifacts(
  db: Db,
  filter: { kind?: string; product?: string; within?: ScopeLimit },
  limit: number,
  after?: PageCursor,
): Promise<ArtifactRow[]> {
  let query = db.selectFrom('artifacts').selectAll();
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.product) query = query.where('product', '=', filter.product);
  if (filter.within) query = query.where(coveredBy(filter.within, ARTIFACT_COLUMNS));
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('published_hlc', '<', after.order),
        eb.and([eb('published_hlc', '=', after.order), eb('id', '<', after.id)]),
      ]),
    );
  }
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

/** The storage word of an artifact kind (`source`, `update`, `rules`). */
export function kindWord(kind: ArtifactKind): string {
  const word = enumWord(ArtifactKindSchema, kind);
  if (!word) throw new Error(`artifact kind ${kind} has no name`);
  return word;
}
