import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEST_POSTGRES_URL, tempDir, testBackends } from '../src/index.js';

const run = promisify(execFile);
const indexModule = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const serverUrl = process.env.VITRINE_TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const result = await client.query('select 1 from pg_database where datname = $1', [name]);
    return result.rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('tempDir', () => {
  it('creates an empty folder and removes it with its contents', async () => {
    const dir = await tempDir('vitrine-testing-');
    expect(await readdir(dir.path)).toEqual([]);
    await writeFile(join(dir.path, 'file'), 'x');
    await dir.cleanup();
    expect(existsSync(dir.path)).toBe(false);
  });
});

describe('testBackends', () => {
  it('always offers PGlite first', () => {
    expect(testBackends()[0]?.name).toBe('pglite');
  });

  it('gives PGlite an initialised data folder of its own and removes it', async () => {
    const pglite = testBackends()[0];
    const first = await pglite?.open();
    const second = await pglite?.open();
    expect(first?.dataDir).not.toBe(second?.dataDir);
    expect(existsSync(join(first?.dataDir ?? '', 'PG_VERSION'))).toBe(true);
    await first?.cleanup();
    await second?.cleanup();
    expect(existsSync(first?.dataDir ?? '')).toBe(false);
  });

  it.runIf(testBackends().some((b) => b.name === 'postgres'))(
    'creates a fresh PostgreSQL database and drops it on cleanup, even while in use',
    async () => {
      const postgres = testBackends().find((b) => b.name === 'postgres');
      const target = await postgres?.open();
      const name = new URL(target?.url ?? '').pathname.slice(1);
      expect(name).toMatch(/^vitrine_test_[0-9a-f]{12}$/);
      expect(await databaseExists(name)).toBe(true);
      const straggler = new pg.Client({ connectionString: target?.url });
      straggler.on('error', () => {});
      await straggler.connect();
      await target?.cleanup();
      expect(await databaseExists(name)).toBe(false);
      await straggler.end().catch(() => {});
    },
  );

  it('fails loudly under CI when the PostgreSQL server is unreachable', async () => {
    const script = `import { testBackends } from ${JSON.stringify(indexModule)}; testBackends();`;
    const env = {
      ...process.env,
      CI: 'true',
      VITRINE_TEST_POSTGRES_URL: 'postgres://postgres:hidden@127.0.0.1:9/postgres',
    };
    const attempt = run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        env,
      },
    );
    const failure = await attempt.then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain(
      'CI requires PostgreSQL at postgres://postgres:***@127.0.0.1:9/postgres',
    );
    expect(failure?.stderr).not.toContain('hidden');
  });
});
