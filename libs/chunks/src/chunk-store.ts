import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VitrineError } from '@vitrine/errors';
import { errorCode, removeStaleFiles, syncDirectory, writeFileAtomically } from './atomic-file.js';
import type { ChunkLayout } from './chunk-layout.js';
import { CHUNK_FILE_MODE, FileLayout, type Levels } from './file-layout.js';
import { PackLayout } from './pack-layout.js';
import { readAhead } from './read-ahead.js';
import type { S3ChunkSettings } from './s3-settings.js';
import { asPlain, assertDigest, bytesEqual, sha256, toHex } from './sha256.js';
import { storeWriteError } from './store-write-error.js';

export { CHUNK_FILE_MODE };

/** Tuning of a {@link ChunkStore}; the defaults are what services use. */
export interface ChunkStoreOptions {
  /**
   * How a new store keeps chunks (a store already made keeps its own, named in its `layout`
   * file). `packs` (default): appended to pack files. `files`: one read-only file per chunk,
   * which costs a file creation and an fsync per chunk.
   */
  readonly layout?: 'packs' | 'files';
  /**
   * When a new chunk is made durable. `per-put` (default): `put` resolves once the chunk
   * survives a power loss. `deferred`: {@link ChunkStore.sync} makes every chunk put so far
   * durable at once, before an upload commits its manifest or received chunks are recorded —
   * one flush for many chunks.
   */
  readonly durability?: 'per-put' | 'deferred';
  /**
   * Temp files at least this old when the store is opened are leftovers of interrupted
   * writes and are removed (default 60 s). Younger ones may belong to another store instance
   * on the same folder that is writing right now.
   */
  readonly staleTempMs?: number;
  /** Clock used for the staleness test, in epoch milliseconds. */
  readonly now?: () => number;
}

/** How {@link ChunkStore.read} reads. */
export interface ReadOptions {
  /** Check the bytes against the digest (default true). */
  readonly verify?: boolean;
}

/** Outcome of {@link ChunkStore.put}: `stored` is false when the chunk was already there. */
export interface PutResult {
  readonly digest: Uint8Array;
  readonly stored: boolean;
}

/** Chunks a `readMany` call fetches ahead of the consumer by default. */
const DEFAULT_READ_AHEAD = 4;

/**
 * A center's chunks, each stored once under its SHA-256 and verified on every read, so a
 * flipped bit on disk or in a bucket surfaces as `data_loss` (a center serving peers may
 * skip the check: they verify every chunk they are sent before storing it). Registry and
 * sync see this one interface, whichever {@link ChunkLayout} holds the bytes.
 *
 * On local disk ({@link ChunkStore.open}), `<dir>/layout` names how chunks are kept: in pack
 * files (PackLayout, new stores) or one file per chunk (FileLayout, stores made before
 * packs, in one or two folder levels); `<dir>/tmp/` holds writes in progress. In an S3
 * bucket ({@link ChunkStore.openS3}), a chunk is an object (S3Layout).
 */
export class ChunkStore {
  /** Where the chunks are: the store's folder, or `s3://bucket/prefix`. */
  readonly location: string;
  readonly #layout: ChunkLayout;
  /** Puts in progress by hex digest, so concurrent puts of one chunk write it once. */
  readonly #inflight = new Map<string, Promise<PutResult>>();

  private constructor(location: string, layout: ChunkLayout) {
    this.location = location;
    this.#layout = layout;
  }

  /** Opens (creating if needed) the store in `dir` and clears stale temp files. */
  static async open(dir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const now = options.now ?? Date.now;
    await removeStaleFiles(join(dir, 'tmp'), now() - (options.staleTempMs ?? 60_000));
    const kind = await readOrCreateLayout(dir, options.layout ?? 'packs');
    const deferred = options.durability === 'deferred';
    const layout =
      kind === 'packs' ? await PackLayout.open(dir, deferred) : new FileLayout(dir, kind, deferred);
    return new ChunkStore(dir, layout);
  }

  /**
   * Opens a store over an S3 bucket (see {@link S3Layout}): processes of one center that
   * share the bucket share its chunks. Throws, naming the setting, when the bucket cannot
   * be reached with the settings given.
   */
  static async openS3(settings: S3ChunkSettings): Promise<ChunkStore> {
    const { S3Layout } = await import('./s3-layout.js');
    const layout = await S3Layout.open(settings);
    return new ChunkStore(layout.location, layout);
  }

  /**
   * Resolves when a chunk could be stored now, and throws `unavailable`, naming where and
   * why, when not: a full or read-only volume or a folder gone for a local store, a bucket
   * that refuses writes or cannot be reached for an S3 one. A service reports itself not
   * ready while this fails.
   */
  checkWritable(): Promise<void> {
    return this.#layout.checkWritable();
  }

  /** Whether the chunk is stored (without verifying it). */
  async has(digest: Uint8Array): Promise<boolean> {
    assertDigest(digest);
    return this.#layout.has(toHex(digest));
  }

  /**
   * Stores `data` under its SHA-256. Given a `digest` (say, from a peer), the data is checked
   * against it before anything is written and a mismatch throws `data_loss`; a chunk already
   * present is not rewritten (`stored: false`), nor hashed again.
   */
  async put(data: Uint8Array, digest?: Uint8Array): Promise<PutResult> {
    const d = digest ?? sha256(data);
    assertDigest(d);
    const hex = toHex(d);
    const running = this.#inflight.get(hex);
    if (running !== undefined) {
      const firstSucceeded = await running.then(
        () => true,
        () => false,
      );
      return firstSucceeded ? { digest: d, stored: false } : this.put(data, digest);
    }
    const putting = this.#putOnce(data, d, hex, digest !== undefined);
    this.#inflight.set(hex, putting);
    try {
      return await putting;
    } finally {
      this.#inflight.delete(hex);
    }
  }

  /**
   * Reads a chunk and checks it against its digest: throws `not_found` when it is missing and
   * `data_loss` when its bytes no longer hash to its name. `verify: false` skips the check,
   * for a reader that verifies what it reads as a whole anyway (an artifact's content
   * against its manifest digest). The bytes are in a buffer of their own, which the caller
   * may free once done with them (`releaseMemory`).
   */
  async read(digest: Uint8Array, options: ReadOptions = {}): Promise<Uint8Array> {
    assertDigest(digest);
    const hex = toHex(digest);
    const bytes = await this.#layout.read(hex);
    if (options.verify !== false && !bytesEqual(sha256(bytes), digest)) {
      throw new VitrineError('data_loss', `chunk ${hex} failed verification`);
    }
    return asPlain(bytes);
  }

  /**
   * Reads several chunks at once, in order: undefined for one not held, `data_loss` for one
   * that fails verification (unless `verify: false`). Chunks stored next to each other are
   * read together (in a pack store, one read for a run of an artifact's chunks). Chunks
   * read together may share a buffer, but no other call's: the caller may free each buffer
   * (`releaseMemory`) once done with every chunk of the batch.
   */
  async readBatch(
    digests: readonly Uint8Array[],
    options: ReadOptions = {},
  ): Promise<(Uint8Array | undefined)[]> {
    for (const d of digests) assertDigest(d);
    const hexes = digests.map(toHex);
    const found = await this.#layout.readBatch(hexes);
    return found.map((bytes, i) => {
      if (bytes === undefined) return undefined;
      if (options.verify !== false && !bytesEqual(sha256(bytes), digests[i] as Uint8Array)) {
        throw new VitrineError('data_loss', `chunk ${hexes[i]} failed verification`);
      }
      return asPlain(bytes);
    });
  }

  /** Size in bytes of a stored chunk; `not_found` when missing. */
  async size(digest: Uint8Array): Promise<number> {
    assertDigest(digest);
    return this.#layout.size(toHex(digest));
  }

  /** Removes a chunk (garbage collection); returns false if it was not there. */
  async delete(digest: Uint8Array): Promise<boolean> {
    assertDigest(digest);
    return this.#layout.delete(toHex(digest));
  }

  /**
   * Makes every chunk stored so far survive a power loss. Needed only with `deferred`
   * durability, where an upload (or a group of chunks received from peers) calls it once
   * before committing what it stored. Concurrent callers are safe: a call returns only once
   * everything stored before it is durable.
   */
  sync(): Promise<void> {
    return this.#layout.sync().catch((err: unknown) => {
      throw storeWriteError(err);
    });
  }

  /** Closes the store's files once pending writes are done; the store is unusable after. */
  close(): Promise<void> {
    return this.#layout.close();
  }

  /**
   * Reads chunks in order (an artifact's content), verifying each (unless `verify: false`),
   * with a few reads in flight ahead of the consumer so disk latency overlaps with its work.
   */
  async *readMany(
    digests: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options: ReadOptions & { readonly concurrency?: number } = {},
  ): AsyncGenerator<Uint8Array, void, undefined> {
    const concurrency = options.concurrency ?? DEFAULT_READ_AHEAD;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new VitrineError('invalid_argument', 'concurrency must be a positive integer');
    }
    yield* readAhead(digests, (d) => this.read(d, options), concurrency);
  }

  async #putOnce(
    data: Uint8Array,
    digest: Uint8Array,
    hex: string,
    verify: boolean,
  ): Promise<PutResult> {
    if (!this.#layout.conditionalWrites && (await this.#layout.has(hex))) {
      return { digest, stored: false };
    }
    if (verify && !bytesEqual(sha256(data), digest)) {
      throw new VitrineError('data_loss', `chunk ${hex} does not match its digest`);
    }
    const stored = await this.#layout.write(hex, data).catch((err: unknown) => {
      throw storeWriteError(err);
    });
    return { digest, stored };
  }
}

/** What a store's layout file says. */
type LayoutKind = 'packs' | Levels;

const LAYOUT_FILE = 'layout';
const LAYOUTS: Record<string, LayoutKind> = {
  'packs/<n>.pack\n': 'packs',
  'sha256/ab/<hex>\n': 1,
  'sha256/ab/cd/<hex>\n': 2,
};

/**
 * The store's layout from its layout file. A store without one is new (`fresh`, and the
 * file is written) unless chunks are already stored, in the two folder levels of the first
 * stores.
 */
async function readOrCreateLayout(dir: string, fresh: 'packs' | 'files'): Promise<LayoutKind> {
  const path = join(dir, LAYOUT_FILE);
  const known = await readFile(path, 'utf8').catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (known !== undefined) {
    const kind = LAYOUTS[known];
    if (kind === undefined) {
      throw new VitrineError('failed_precondition', `chunk store ${dir} has an unknown layout`);
    }
    return kind;
  }
  const legacy = (await readdir(join(dir, 'sha256')).catch(() => [])).length > 0;
  const kind: LayoutKind = legacy ? 2 : fresh === 'packs' ? 'packs' : 1;
  const text = Object.keys(LAYOUTS).find((k) => LAYOUTS[k] === kind) as string;
  const temp = join(dir, 'tmp', `layout-${randomBytes(12).toString('hex')}`);
  await writeFileAtomically(temp, path, new TextEncoder().encode(text), CHUNK_FILE_MODE);
  await syncDirectory(dir);
  return kind;
}
