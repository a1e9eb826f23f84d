import { access, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Crash-safe file writes for the chunk store: a file appears under its final name whole or
 * not at all, and only after its bytes are on disk.
 */

/**
 * Writes `data` to `temp` (which must not exist), fsyncs it, and renames it to `target`
 * (replacing any file there; same folder tree, so the rename is atomic). The temp file is
 * removed if anything fails. Making the rename itself durable is the caller's business:
 * {@link syncDirectory} on `target`'s folder.
 */
export async function writeFileAtomically(
  temp: string,
  target: string,
  data: Uint8Array,
  mode: number,
): Promise<void> {
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(data);
      await file.chmod(mode); // the exact mode, whatever the umask
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Filesystems that cannot fsync a directory say so with one of these. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM']);

/** fsyncs a directory so entries created or renamed into it survive a power loss. */
export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } catch (err) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has(errorCode(err) ?? '')) throw err;
  } finally {
    await dir.close();
  }
}

/** Deletes files in `dir` last modified before `cutoffMs` (epoch ms): abandoned temp files. */
export async function removeStaleFiles(dir: string, cutoffMs: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && info.mtimeMs < cutoffMs) await rm(path, { force: true });
  }
}

/** True if `path` exists; errors other than "no such file" are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** The `code` of a Node.js system error (`ENOENT`, ...), if it has one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
