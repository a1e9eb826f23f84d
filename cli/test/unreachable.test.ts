import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { federationFile, runCli } from './run-cli.js';

/** A local port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((done, fail) => server.close((err) => (err ? fail(err) : done())));
  return address.port;
}

describe('an unreachable registry', () => {
  let dir: TempDir;
  let url: string;

  beforeAll(async () => {
    dir = await tempDir('vitrine-cli-unreachable-');
    url = `http://127.0.0.1:${await closedPort()}`;
    await mkdir(join(dir.path, '.vitrine'));
    const file = federationFile({ asia: url, europe: url, us: url });
    await writeFile(join(dir.path, '.vitrine', 'federation.json'), JSON.stringify(file));
  });
  afterAll(() => dir.cleanup());

  it('gives a JSON error document on stdout and exit 1 with --json', async () => {
    const run = await runCli(['artifact', 'show', 'abcd', '--center', 'europe', '--json'], {
      cwd: dir.path,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(run.json()).toEqual({
      error: {
        code: 'UNAVAILABLE',
        message: `cannot reach europe at ${url} — is \`vitrine dev\` running?`,
      },
    });
  });

  it('gives one line on stderr without --json', async () => {
    const run = await runCli(['finding', 'ls'], { cwd: dir.path });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `vitrine: cannot reach asia at ${url} — is \`vitrine dev\` running? (UNAVAILABLE)\n`,
    );
  });

  it('names the URL when talking to --endpoint', async () => {
    const run = await runCli(['finding', 'show', 'europe-1', '--endpoint', url, '--json'], {
      cwd: dir.path,
    });
    expect(run.code).toBe(1);
    expect(run.json()).toEqual({
      error: { code: 'UNAVAILABLE', message: `cannot reach ${url} — is \`vitrine dev\` running?` },
    });
  });

  it('fails a push before any partial state and leaves no file behind on pull', async () => {
    await writeFile(join(dir.path, 'a.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    const push = await runCli(
      [
        'artifact',
        'push',
        'a.bin',
        '--center',
        'us',
        '--kind',
        'update',
        '--product',
        'p',
        '--version',
        '1',
        '--json',
      ],
      { cwd: dir.path },
    );
    expect(push.code).toBe(1);
    expect(push.json()).toEqual({
      error: {
        code: 'UNAVAILABLE',
        message: `cannot reach us at ${url} — is \`vitrine dev\` running?`,
      },
    });
    const pull = await runCli(['artifact', 'pull', 'abcd', '--center', 'us', '-o', 'out.bin'], {
      cwd: dir.path,
    });
    expect(pull.code).toBe(1);
    expect((await readdir(dir.path)).sort()).toEqual(['.vitrine', 'a.bin']);
  });
});
