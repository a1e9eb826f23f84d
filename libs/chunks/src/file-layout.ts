import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isVitrineError, VitrineError } from '@vitrine/errors';
import { errorCode, pathExists, syncDirectory, writeFileAtomically } from './atomic-file.js';
import type { ChunkLayout } from './chunk-layout.js';
import { checkTempWritable } from './writable-probe.js';

/** File mode of chunk files: content-addressed files never change, so nobody writes them. */
export const CHUNK_FILE_MODE = 0o444;

/** Folder levels between `sha256/` and a chunk file. */
export type Levels = 1 | 2;

/**
 * One read-only file per chunk: `<dir>/sha256/<hex[0..2]>/<hex>`, or, in stores made before
 * the store named its layout, `<dir>/sha256/<hex[0..2]>/<hex[2..4]>/<hex>`. A chunk is
 * written to a temp file in `<dir>/tmp/`, fsynced, then renamed into place, so a reader or a
 * crash never sees a partial chunk; its folder is fsynced at once (`per-put`) or by
 * {@link sync} (`deferred`).
 */
export class FileLayout implements ChunkLayout {
  readonly conditionalWrites = false;
  /**
   * Leaf directories created or being created (`ab`, or `ab/cd` in two levels), to skip a
   * mkdir per write; each maps to the directories its creation changed, which every write
   * into it fsyncs.
   */
  readonly #leafDirs = new Map<string, Promise<string[]>>();
  /** Directories with entries not yet fsynced (deferred mode); at most 258 (65,793 in two levels). */
  readonly #unsyncedDirs = new Set<string>();
  /** Syncs in progress, each resolving to whether it succeeded. */
  readonly #syncing = new Set<Promise<boolean>>();

  constructor(
    private readonly dir: string,
    private readonly levels: Levels,
    private readonly deferDirectorySync: boolean,
  ) {}

  has(hex: string): Promise<boolean> {
    return pathExists(this.#path(hex));
  }

  async write(hex: string, data: Uint8Array): Promise<boolean> {
    const target = this.#path(hex);
    const changedParents = await this.#ensureLeafDir(hex);
    const temp = join(this.dir, 'tmp', randomBytes(12).toString('hex'));
    await writeFileAtomically(temp, target, data, CHUNK_FILE_MODE);
    await this.#syncDirs([join(target, '..'), ...changedParents]);
    return true;
  }

  checkWritable(): Promise<void> {
    return checkTempWritable(this.dir);
  }

  async read(hex: string): Promise<Buffer> {
    try {
      return await readFile(this.#path(hex));
    } catch (err) {
      throw missingOr(err, hex);
    }
  }

  readBatch(hexes: readonly string[]): Promise<(Buffer | undefined)[]> {
    return Promise.all(
      hexes.map((hex) =>
        this.read(hex).catch((err: unknown) => {
          if (isVitrineError(err, 'not_found')) return undefined;
          throw err;
        }),
      ),
    );
  }

  async size(hex: string): Promise<number> {
    try {
      return (await stat(this.#path(hex))).size;
    } catch (err) {
      throw missingOr(err, hex);
    }
  }

  async delete(hex: string): Promise<boolean> {
    try {
      await unlink(this.#path(hex));
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * fsyncs every folder with entries not yet durable. Concurrent callers are safe: a call
   * returns only once every directory it depends on is synced, including those another
   * call took.
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

  async close(): Promise<void> {}

  /**
   * Creates `sha256/<ab>/<cd>` once; returns the directories whose entries changed because
   * of it (the parents of new directories), which need an fsync too.
   */
  #ensureLeafDir(hex: string): Promise<string[]> {
    const rel = leafOf(hex, this.levels);
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
    if (this.deferDirectorySync) {
      for (const d of dirs) this.#unsyncedDirs.add(d);
    } else {
      await Promise.all(dirs.map(syncDirectory));
    }
  }

  #path(hex: string): string {
    return join(this.dir, 'sha256', leafOf(hex, this.levels), hex);
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
export function missingOr(err: unknown, hex: string): unknown {
  return errorCode(err) === 'ENOENT'
    ? new VitrineError('not_found', `chunk ${hex} not found`)
    : err;
}
