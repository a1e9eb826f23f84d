import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { CliError, usageError } from './cli-error.js';

/**
 * A file a config names must be there and readable now, not at the first call that needs
 * it: refused as CONFIG, naming the setting, the path, why, and `hint` (what to do).
 */
export async function requireReadable(setting: string, path: string, hint: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    throw new CliError('CONFIG', `${setting} names ${path}, which ${why} — ${hint}`);
  }
}

/** The file's size; a missing file or a folder is a usage error, caught before any call. */
export async function regularFileSize(path: string, shown: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw usageError(`${shown} is not a regular file`);
    return info.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw usageError(`${shown}: no such file`);
    throw err;
  }
}
