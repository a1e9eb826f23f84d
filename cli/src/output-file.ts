import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { type CliError, usageError } from './cli-error.js';

/** Errors of `link` meaning the file system has no hard links, rather than a refusal. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Where downloaded bytes go (an artifact, an export): a file committed only once the whole
 * download is in and checked, or stdout.
 */
export interface Sink {
  write(data: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/**
 * Writes to a new file beside FILE (`wx`: never one that exists); commit fsyncs it, moves
 * it to FILE (see `moveIntoPlace`) and fsyncs the folder.
 */
export async function fileSink(path: string, replace: boolean): Promise<Sink> {
  const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
  const handle = await open(partial, 'wx');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    write: (data) => writeFully(handle, data),
    async commit() {
      await handle.sync();
      await close();
      await moveIntoPlace(partial, path, replace);
      await syncFolder(dirname(path));
    },
    async discard() {
      await close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

/**
 * Moves the verified file to FILE. With `replace`, a rename (atomic, replacing FILE).
 * Without, a hard link, which fails if FILE appeared during the download, then unlinking
 * the partial name; on file systems without hard links, a check and a rename.
 */
async function moveIntoPlace(partial: string, path: string, replace: boolean): Promise<void> {
  if (replace) return rename(partial, path);
  try {
    await link(partial, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw alreadyThere(path);
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (await exists(path)) throw alreadyThere(path);
    return rename(partial, path);
  }
  await rm(partial);
}

/** Whether anything (file, folder, link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The usage error for an output file that is already there. */
export function alreadyThere(path: string): CliError {
  return usageError(`${path} already exists; pass --force to replace it`);
}

/** FileHandle.write may write less than asked; loop until every byte is down. */
async function writeFully(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** Makes the rename durable; folders cannot be fsynced everywhere, which is not an error. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** Writes to stdout (`-o -`), waiting for each write so memory stays bounded. */
export function streamSink(stream: Writable): Sink {
  return {
    write: (data) =>
      new Promise((done, fail) => {
        stream.write(data, (err) => (err ? fail(err) : done()));
      }),
    commit: async () => undefined,
    discard: async () => undefined,
  };
}
