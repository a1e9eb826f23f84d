import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under the system temp directory and the function that removes it. */
export interface TempDir {
  readonly path: string;
  cleanup(): Promise<void>;
}

/**
 * Creates an empty, uniquely named folder for one test (chunk stores, PGlite data, key
 * files), so tests touch real files without stepping on each other.
 */
export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => rm(path, { recursive: true, force: true, maxRetries: 3 }),
  };
}
