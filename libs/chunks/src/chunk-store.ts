import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { VitrineError } from '@vitrine/errors';
import {
  errorCode,
  pathExists,
  removeStaleFiles,
  syncDirectory,
  writeFileAtomically,
} from './atomic-file.js';
import { readAhead } from './read-ahead.js';
import { asPlain, assertDigest, bytesEqual, sha256, toHex } from './sha256.js';

/** Tuning of a {@link ChunkStore}; the defaults are what services use. */
export interface ChunkStoreOptions {
  /**
   * When a new chunk's directory entry is fsynced. `per-put` (default): `put` resolves once
   * the chunk and its name survive a power loss. `deferred`: `put` fsyncs the chunk's bytes
   * and remembers its directory; {@link ChunkStore.sync} then fsyncs every such directory at
   * once, before an upload commits its manifest — one journal flush for the upload instead
   * of one per chunk. What that saves depends on the filesystem and disk; `bench/chunker.ts`
   * measures both modes.
   */
  readonly directorySync?: 'per-put' | 'deferred';
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

/** File mode of stored chunks: content-addressed files never change, so nobody writes them. */
export const CHUNK_FILE_MODE = 0o444;

/** Chunks a `readMany` call fetches ahead of the consumer by default. */
const DEFAULT_READ_AHEAD = 4;

/**
 * A center's chunks on local disk, each stored once under its SHA-256 and verified on every
 * read, so a flipped bit on disk surfaces as `data_loss` instead of spreading to peers.
 *
 * Layout: `<dir>/sha256/<hex[0..2]>/<hex>` (read-only files), `<dir>/tmp/` for writes in
 * progress, and `<dir>/layout` naming the layout. Stores created before that file existed
 * spread chunks over two levels, `<dir>/sha256/<hex[0..2]>/<hex[2..4]>/<hex>`, and keep
 * doing so: a new store's first chunks then each made a folder (and synced two), which
 * doubled what a fresh center paid to store a chunk. A chunk is written to a temp file, fsynced, then renamed into place,
 * so a reader or a crash never sees a partial chunk.
 */
export class ChunkStore {
  readonly dir: string;
  readonly #deferDirectorySync: boolean;
  /** Folder levels between `sha256/` and a chunk file. */
  readonly #levels: Levels;
  /**
   * Leaf directories created or being created (`ab`, or `ab/cd` in two levels), to skip a
   * mkdir per put; each maps to the directories its creation changed, which every put into
   * it fsyncs.
   */
  readonly #leafDirs = new Map<string, Promise<string[]>>();
  /** Directories with entries not yet fsynced (deferred mode); at most 258 (65,793 in two levels). */
  readonly #unsyncedDirs = new Set<string>();
  /** Syncs in progress, each resolving to whether it succeeded. */
  readonly #syncing = new Set<Promise<boolean>>();
  /** Puts in progress by hex digest, so concurrent puts of one chunk write it once. */
  readonly #inflight = new Map<string, Promise<PutResult>>();

  private constructor(dir: string, deferDirectorySync: boolean, levels: Levels) {
    this.dir = dir;
    this.#deferDirectorySync = deferDirectorySync;
    this.#levels = levels;
  }

  /** Opens (creating if needed) the store in `dir` and clears stale temp files. */
  static async open(dir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    await mkdir(join(dir, 'sha256'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const now = options.now ?? Date.now;
    await removeStaleFiles(join(dir, 'tmp'), now() - (options.staleTempMs ?? 60_000));
    const levels = await readOrCreateLayout(dir);
    return new ChunkStore(dir, options.directorySync === 'deferred', levels);
  }

  /** Whether the chunk is stored (without verifying it). */
  async has(digest: Uint8Array): Promise<boolean> {
    assertDigest(digest);
    return pathExists(this.#path(toHex(digest)));
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
   * against its manifest digest).
   */
  async read(digest: Uint8Array, options: ReadOptions = {}): Promise<Uint8Array> {
    assertDigest(digest);
    const hex = toHex(digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path(hex));
    } catch (err) {
      throw missingOr(err, hex);
    }
    if (options.verify !== false && !bytesEqual(sha256(bytes), digest)) {
      throw new VitrineError('data_loss', `chunk ${hex} failed verification`);
    }
    return asPlain(bytes);
  }

  /** Size in bytes of a stored chunk; `not_found` when missing. */
  async size(digest: Uint8Array): Promise<number> {
    assertDigest(digest);
    const hex = toHex(digest);
    try {
      return (await stat(this.#path(hex))).size;
    } catch (err) {
      throw missingOr(err, hex);
    }
  }

  /** Removes a chunk (garbage collection); returns false if it was not there. */
  async delete(digest: Uint8Array): Promise<boolean> {
    assertDigest(digest);
    try {
      await unlink(this.#path(toHex(digest)));
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Makes every chunk stored so far survive a power loss. Needed only in `deferred`
   * directory-sync mode, where an upload (or a group of chunks received from peers) calls
   * it once before committing what it stored. Concurrent callers are safe: a call returns
   * only once every directory it depends on is synced, including those another call took.
   */
  async sync(): Promise<void> {
    const earlier = [...this.#syncing];
    const dirs = [...this.#unsyncedDirs];
    this.#unsyncedDirs.clear();
    const mine = syncDirectories(dirs).catch((err: unknown) => {
      for (const d of dirs) this.#unsyncedDirs.add(d);
      throw err;
    });
    const settled = mine.then(
      () => true,
      () => false,
    );
    this.#syncing.add(settled);
    void settled.then(() => this.#syncing.delete(settled));
    await mine;
    // Directories a sync still running took from the set are durable only once it is done;
    // if it failed, they are back in the set and this caller syncs them itself.
    if ((await Promise.all(earlier)).includes(false)) await this.sync();
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
    const target = this.#path(hex);
    if (await pathExists(target)) return { digest, stored: false };
    if (verify && !bytesEqual(sha256(data), digest)) {
      throw new VitrineError('data_loss', `chunk ${hex} does not match its digest`);
    }
    const changedParents = await this.#ensureLeafDir(hex);
    const temp = join(this.dir, 'tmp', randomBytes(12).toString('hex'));
    await writeFileAtomically(temp, target, data, CHUNK_FILE_MODE);
    await this.#syncDirs([join(target, '..'), ...changedParents]);
    return { digest, stored: true };
  }

  /**
   * Creates `sha256/<ab>/<cd>` once; returns the directories whose entries changed because
   * of it (the parents of new directories), which need an fsync too.
   */
  #ensureLeafDir(hex: string): Promise<string[]> {
    const rel = leafOf(hex, this.#levels);
    let creating = this.#leafDirs.get(rel);
    if (creating === undefined) {
      creating = createLeafDir(join(this.dir, 'sha256'), rel);
      this.#leafDirs.set(rel, creating);
      creating.catch(() => this.#leafDirs.delete(rel));
    }
    return creating;
  }

  /** fsyncs `dirs` now, or leaves them for {@link sync} in deferred mode. */
  async #syncDirs(dirs: string[]): Promise<void> {
    if (this.#deferDirectorySync) {
      for (const d of dirs) this.#unsyncedDirs.add(d);
    } else {
      await Promise.all(dirs.map(syncDirectory));
    }
  }

  #path(hex: string): string {
    return join(this.dir, 'sha256', leafOf(hex, this.#levels), hex);
  }
}

/** Directories fsynced at once: a large upload touches tens of thousands of them. */
const DIRECTORY_SYNCS_IN_FLIGHT = 64;

/**
 * fsyncs `dirs`, a few at a time: each sync holds a file descriptor, and opening them all
 * at once runs out of descriptors (EMFILE) after a multi-GiB upload.
 */
async function syncDirectories(dirs: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < dirs.length) await syncDirectory(dirs[next++] as string);
  };
  await Promise.all(
    Array.from({ length: Math.min(DIRECTORY_SYNCS_IN_FLIGHT, dirs.length) }, worker),
  );
}

/** Folder levels between `sha256/` and a chunk file. */
type Levels = 1 | 2;

/** The layout file's name and its contents for each number of levels. */
const LAYOUT_FILE = 'layout';
const LAYOUTS: Record<Levels, string> = {
  1: 'sha256/ab/<hex>\n',
  2: 'sha256/ab/cd/<hex>\n',
};

/**
 * The store's layout from its layout file. A store without one is new (one level, and the
 * file is written) unless chunks are already stored, in the two levels of older stores.
 */
async function readOrCreateLayout(dir: string): Promise<Levels> {
  const path = join(dir, LAYOUT_FILE);
  const known = await readFile(path, 'utf8').catch((err: unknown) => {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (known !== undefined) {
    const levels = ([1, 2] as const).find((n) => LAYOUTS[n] === known);
    if (levels === undefined) {
      throw new VitrineError('failed_precondition', `chunk store ${dir} has an unknown layout`);
    }
    return levels;
  }
  const levels: Levels = (await readdir(join(dir, 'sha256'))).length > 0 ? 2 : 1;
  const temp = join(dir, 'tmp', `layout-${randomBytes(12).toString('hex')}`);
  await writeFileAtomically(temp, path, new TextEncoder().encode(LAYOUTS[levels]), CHUNK_FILE_MODE);
  await syncDirectory(dir);
  return levels;
}

/** The folder under `sha256/` a chunk's file is in: `ab`, or `ab/cd` in two levels. */
function leafOf(hex: string, levels: Levels): string {
  return levels === 1 ? hex.slice(0, 2) : `${hex.slice(0, 2)}/${hex.slice(2, 4)}`;
}

/** mkdir -p of a leaf directory (`ab` or `ab/cd`) under `root`; returns the parents it changed. */
async function createLeafDir(root: string, leaf: string): Promise<string[]> {
  const first = await mkdir(join(root, leaf), { recursive: true });
  if (first === undefined) return [];
  // Each directory made, from the leaf up to the first one made, changed its parent.
  const made = resolve(first);
  const changed: string[] = [];
  for (let dir = resolve(root, leaf); dir !== resolve(root); dir = dirname(dir)) {
    changed.push(dirname(dir));
    if (dir === made) break;
  }
  return changed;
}

/** `not_found` for a missing chunk file; any other error as it is. */
function missingOr(err: unknown, hex: string): unknown {
  return errorCode(err) === 'ENOENT'
    ? new VitrineError('not_found', `chunk ${hex} not found`)
    : err;
}
