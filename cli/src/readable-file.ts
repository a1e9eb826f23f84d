import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { CliError } from './cli-error.js';

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
