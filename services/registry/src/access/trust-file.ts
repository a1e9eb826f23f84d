import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory, writeFileAtomically } from '@vitrine/chunks';
import { decodeSignedSnapshot, encodeSignedSnapshot } from '@vitrine/credentials';
import type { WatchTrustResponse } from '@vitrine/proto/access';

/**
 * Where a center keeps the last trust snapshot it accepted, signature and all, so it
 * verifies credentials and keeps revocations after a restart with the access service down.
 * The file is replaced atomically (temp file, fsync, rename, folder fsync): a crash leaves
 * the old snapshot or the new one, never a torn one.
 */
export class TrustFile {
  constructor(readonly path: string) {}

  /** The stored snapshot (signature not yet verified), or undefined when there is none. */
  async read(): Promise<WatchTrustResponse | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return decodeSignedSnapshot(bytes);
  }

  async write(signed: WatchTrustResponse): Promise<void> {
    const folder = dirname(this.path);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFileAtomically(temp, this.path, encodeSignedSnapshot(signed), 0o600);
    await syncDirectory(folder);
  }
}
