import { createHash } from 'node:crypto';
import type { ChunkStore } from '@vitrine/chunks';
import { bytesEqual } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import { type ArtifactRow, artifactChunkPage } from './artifact-store.js';
import type { RegistryDatabase } from './schema.js';

/** Rows of an artifact's chunk list read per query. */
const CHUNK_PAGE = 1024;
/** Chunk reads kept in flight ahead of the consumer (bounded memory: 16 × 256 KiB at most). */
const READ_AHEAD = 16;

/**
 * Streams an artifact's content chunk by chunk, in order: every chunk is verified against
 * its digest as the store reads it, and the whole content against the manifest's digest at
 * the end (`data_loss` either way). Memory holds a few chunks, whatever the artifact's size.
 * `verifyChunks: false` leaves only the check at the end, for a reader that keeps nothing
 * until it passes (a replicated artifact becoming available, whose chunks were each
 * verified as they arrived).
 */
export async function* artifactContent(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  row: Pick<ArtifactRow, 'id' | 'chunk_count' | 'content_digest'>,
  options: { readonly verifyChunks?: boolean } = {},
): AsyncGenerator<Uint8Array> {
  const whole = createHash('sha256');
  for (let idx = 0; idx < row.chunk_count; ) {
    const page = await artifactChunkPage(db, row.id, idx, CHUNK_PAGE);
    if (page.length === 0) break;
    idx += page.length;
    for await (const data of store.readMany(
      page.map((c) => c.digest),
      { concurrency: READ_AHEAD, verify: options.verifyChunks !== false },
    )) {
      whole.update(data);
      yield data;
    }
  }
  if (!bytesEqual(new Uint8Array(whole.digest()), row.content_digest)) {
    throw new VitrineError('data_loss', `artifact ${row.id} failed whole-content verification`);
  }
}
