import {
  type ChunkPatch,
  type ChunkStore,
  patchOf,
  readAhead,
  SharedRelease,
} from '@vitrine/chunks';
import { toHex } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import { chunkUses } from '../queries/chunks.js';
import type { PeerScope } from '../replica.js';
import type { RegistryDatabase } from '../schema.js';
import { type ChunkBase, MAX_BASE_RUN } from './chunk-bases.js';

/**
 * Chunks read from the store at once when serving a peer (in a pack store, one read where
 * they lie together), and batches read ahead of the peer's stream.
 */
const SERVE_BATCH = 16;
const BATCHES_AHEAD = 2;

/**
 * A chunk served to a peer: its bytes (undefined where this center does not hold it), and,
 * where the base the peer named shares enough of them, the patch to send instead.
 */
export interface ServedChunk {
  readonly digest: Uint8Array;
  readonly data: Uint8Array | undefined;
  readonly patch?: ChunkPatch;
  /**
   * Call once nothing reads `data` or `patch` any more (sealed into a frame): the read they
   * came in is freed when every chunk of it is done, where it would wait for a garbage
   * collection. Not calling it only leaves the read to the collector.
   */
  readonly done: () => void;
}

/** The bytes of a run of chunks held here, concatenated (each read verified). */
export async function runBytes(store: ChunkStore, run: readonly Uint8Array[]): Promise<Uint8Array> {
  if (run.length > MAX_BASE_RUN) {
    throw new VitrineError('invalid_argument', `a chunk base is at most ${MAX_BASE_RUN} chunks`);
  }
  const parts: Uint8Array[] = [];
  for await (const part of store.readMany(run)) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * The chunks a peer asks for, in order, each with its bytes — or without, where this
 * center does not hold it (yet). Refused with `permission_denied`, before anything is
 * read, when one of them is used only by artifacts that may not be held in the peer's
 * jurisdiction. One query checks them all; chunks are read in batches, ahead of the peer's
 * stream (in a pack store, one read for chunks stored one after the other). Where the
 * peer names a base for a chunk (`bases`, by position) that it may hold and that shares
 * enough of the chunk's bytes, the chunk comes with the patch to send instead. Each chunk
 * served says when the caller is done with its bytes (`done`), so the read they came in
 * is freed at once.
 */
export async function* serveChunks(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  peer: PeerScope,
  digests: readonly Uint8Array[],
  bases: readonly (ChunkBase | undefined)[] = [],
): AsyncGenerator<ServedChunk> {
  const named = bases.flatMap((b) => (b && b.run.length <= MAX_BASE_RUN ? b.run : []));
  const uses = digests.length === 0 ? [] : await chunkUses(db, [...digests, ...named]);
  const allowed = new Map<string, boolean>();
  for (const { digest, residency } of uses) {
    const may = residency.length === 0 || residency.includes(peer.jurisdiction);
    allowed.set(toHex(digest), (allowed.get(toHex(digest)) ?? false) || may);
  }
  if (digests.some((d) => allowed.get(toHex(d)) === false)) {
    throw new VitrineError(
      'permission_denied',
      `chunk of an artifact that may not be held in ${peer.jurisdiction}`,
    );
  }
  // A base the peer names is used only if the peer may hold all of it too. Chunks of one
  // run name the same base: its bytes are read once.
  let lastRun: { key: string; bytes: Promise<Uint8Array | undefined> } | undefined;
  const baseBytes = (run: readonly Uint8Array[]) => {
    const key = run.map(toHex).join();
    if (lastRun?.key !== key) {
      const readable = run.length > 0 && run.every((c) => allowed.get(toHex(c)));
      const bytes = readable ? runBytes(store, run).catch(() => undefined) : undefined;
      lastRun = { key, bytes: Promise.resolve(bytes) };
    }
    return lastRun.bytes;
  };
  const serve = async (
    digest: Uint8Array,
    data: Uint8Array | undefined,
    done: () => void,
    base?: ChunkBase,
  ): Promise<ServedChunk> => {
    if (data === undefined || base === undefined || base.run.length > MAX_BASE_RUN) {
      return { digest, data, done };
    }
    const bytes = await baseBytes(base.run);
    const patch = bytes && patchOf(data, { ...base, bytes });
    return patch ? { digest, data, patch, done } : { digest, data, done };
  };
  const readBatch = async (batch: number[]): Promise<ServedChunk[]> => {
    const wanted = batch.map((i) => digests[i] as Uint8Array);
    const readable = wanted.filter((d) => allowed.get(toHex(d)));
    // Not verified here: the peer checks every chunk against its digest before storing
    // it, and takes one that fails from another center; hashing here cost the serving
    // center CPU for nothing (docs/decisions/0012-chunks-served-unverified.md).
    const read = await store.readBatch(readable, { verify: false });
    const data = new Map(readable.map((d, k) => [d, read[k]]));
    // The store read the batch into buffers of its own: freed once every chunk is done.
    const memory = new SharedRelease(...new Set(read.flatMap((r) => (r ? [r.buffer] : []))));
    const served: ServedChunk[] = [];
    try {
      for (const [k, i] of batch.entries()) {
        const digest = wanted[k] as Uint8Array;
        served.push(await serve(digest, data.get(digest), memory.take(), bases[i]));
      }
    } finally {
      memory.close();
    }
    return served;
  };
  const batches: number[][] = [];
  for (let i = 0; i < digests.length; i += SERVE_BATCH) {
    batches.push(
      Array.from({ length: Math.min(SERVE_BATCH, digests.length - i) }, (_, k) => i + k),
    );
  }
  for await (const served of readAhead(batches, readBatch, BATCHES_AHEAD)) yield* served;
}
