import { createHash } from 'node:crypto';
import { type ChunkStore, readAhead, releaseMemory } from '@vitrine/chunks';
import { bytesEqual, toHex } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import { type ArtifactRow, artifactChunkPage } from './queries/artifacts.js';
import type { RegistryDatabase } from './schema.js';

/** Rows of an artifact's chunk list read per query. */
const CHUNK_PAGE = 1024;
/**
 * Chunks read together (in a pack store, one read for chunks stored one after the other,
 * as an artifact's are), and batches read ahead of the consumer: memory holds three batches
 * at most (6 MiB of the largest chunks, 1.5 MiB at the mean).
 */
const READ_BATCH = 8;
const BATCHES_AHEAD = 2;

/**
 * Streams an artifact's content chunk by chunk, in order: every chunk is verified against
 * its digest as the store reads it, and the whole content against the manifest's digest at
 * the end (`data_loss` either way). Memory holds a few chunks, whatever the artifact's size.
 */
export async function* artifactContent(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  row: Pick<ArtifactRow, 'id' | 'chunk_count' | 'content_digest'>,
): AsyncGenerator<Uint8Array> {
  const whole = createHash('sha256');
  for await (const batch of contentBatches(db, store, row, true)) {
    for (const data of batch) {
      whole.update(data);
      yield data;
    }
  }
  assertWhole(whole, row);
}

/**
 * Verifies an artifact's content whole against the manifest's digest (`data_loss` if it
 * does not match), for a replicated artifact becoming available, whose chunks were each
 * verified as they arrived: they are not hashed again one by one, and each read is freed
 * as soon as it is hashed rather than left to the garbage collector (a 4 GiB artifact is
 * 4 GiB of reads).
 */
export async function verifyContent(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  row: Pick<ArtifactRow, 'id' | 'chunk_count' | 'content_digest'>,
): Promise<void> {
  const whole = createHash('sha256');
  for await (const batch of contentBatches(db, store, row, false)) {
    for (const data of batch) whole.update(data);
    // The store reads every batch into buffers of its own, and nothing else has seen them.
    for (const buffer of new Set(batch.map((data) => data.buffer))) releaseMemory(buffer);
  }
  assertWhole(whole, row);
}

/** An artifact's chunks in order, READ_BATCH to a read, BATCHES_AHEAD reads ahead. */
async function* contentBatches(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  row: Pick<ArtifactRow, 'id' | 'chunk_count'>,
  verifyChunks: boolean,
): AsyncGenerator<Uint8Array[]> {
  for (let idx = 0; idx < row.chunk_count; ) {
    const page = await artifactChunkPage(db, row.id, idx, CHUNK_PAGE);
    if (page.length === 0) break;
    idx += page.length;
    const batches: Uint8Array[][] = [];
    for (let i = 0; i < page.length; i += READ_BATCH) {
      batches.push(page.slice(i, i + READ_BATCH).map((c) => c.digest));
    }
    yield* readAhead(batches, (b) => readAll(store, b, verifyChunks), BATCHES_AHEAD);
  }
}

function assertWhole(
  whole: ReturnType<typeof createHash>,
  row: Pick<ArtifactRow, 'id' | 'content_digest'>,
): void {
  if (!bytesEqual(new Uint8Array(whole.digest()), row.content_digest)) {
    throw new VitrineError('data_loss', `artifact ${row.id} failed whole-content verification`);
  }
}

/** Reads `digests` together, each verified unless told not to; `not_found` for one not held. */
async function readAll(
  store: ChunkStore,
  digests: readonly Uint8Array[],
  verify: boolean,
): Promise<Uint8Array[]> {
  const found = await store.readBatch(digests, { verify });
  return found.map((data, i) => {
    if (data !== undefined) return data;
    throw new VitrineError('not_found', `chunk ${toHex(digests[i] as Uint8Array)} not found`);
  });
}
