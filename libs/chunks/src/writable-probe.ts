import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VitrineError } from '@vitrine/errors';
import { errorCode } from './atomic-file.js';

/**
 * Resolves when a file can be written to and removed from a local store's `tmp/` folder —
 * where every chunk is written first — and throws `unavailable`, naming the folder and the
 * system's error, when not (a full or read-only volume, a folder gone).
 */
export async function checkTempWritable(dir: string): Promise<void> {
  const probe = join(dir, 'tmp', `ready-${randomBytes(8).toString('hex')}`);
  try {
    await writeFile(probe, 'ready\n', { flag: 'wx' });
    await unlink(probe);
  } catch (err) {
    await unlink(probe).catch(() => undefined);
    throw new VitrineError(
      'unavailable',
      `chunk store ${dir} is not writable (${errorCode(err) ?? String(err)})`,
      { cause: err },
    );
  }
}
