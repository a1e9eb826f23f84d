import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const CHILD = new URL('./many-folders-child.ts', import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitrine-chunks-folders-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ChunkStore.sync', () => {
  it('syncs more chunk folders than the process may hold open files at once', async () => {
    // 600 chunks land in about 230 of the 256 chunk folders; the child may open only 128 files.
    const script = `ulimit -n 128 && exec "${process.execPath}" --import tsx "${CHILD}" "${dir}" 600`;
    await promisify(execFile)('sh', ['-c', script]);
    const top = await readdir(join(dir, 'sha256'));
    expect(top.length).toBeGreaterThan(200);
  }, 60_000);
});
