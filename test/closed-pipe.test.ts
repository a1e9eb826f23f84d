import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const VITRINE = fileURLToPath(new URL('../bin/vitrine.js', import.meta.url));

describe('vitrine writing into a pipe its reader closed', () => {
  it('exits quietly, as `vitrine … | head` expects, without an EPIPE trace', async () => {
    // The reader has closed its end before vitrine writes, as `head` has once it read
    // enough, so vitrine's first write fails with EPIPE.
    const child = spawn(process.execPath, [VITRINE, 'federation', 'keys', '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});
