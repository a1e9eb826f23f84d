import { randomBytes } from 'node:crypto';
import { copyPGliteTemplate } from './pglite-template.js';
import { DEFAULT_TEST_POSTGRES_URL, probePostgres, runAdminStatement } from './postgres-probe.js';
import { tempDir } from './temp-dir.js';

/**
 * A throw-away database, shaped as `openDatabase` options (`url` for PostgreSQL,
 * `dataDir` for PGlite), plus `cleanup` that deletes it. Close the database first.
 */
export interface TestDatabase {
  readonly url?: string;
  readonly dataDir?: string;
  cleanup(): Promise<void>;
}

/** One storage backend a suite runs against. */
export interface TestBackend {
  readonly name: 'pglite' | 'postgres';
  open(): Promise<TestDatabase>;
}

const adminUrl = process.env.VITRINE_TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
const probe = await probePostgres(adminUrl);

/**
 * The backends every storage-touching suite runs on: PGlite always, PostgreSQL when a
 * server answers at `VITRINE_TEST_POSTGRES_URL` (default: local trust-auth server).
 * Use as `describe.each(testBackends())('… on $name', (backend) => …)`.
 *
 * Under CI a missing server is an error, not a skip: CI must test both backends.
 */
export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: 'pglite', open: openPGliteTestDatabase }];
  if (probe.ok) {
    backends.push({ name: 'postgres', open: () => openPostgresTestDatabase(adminUrl) });
  } else if (isCi()) {
    throw new Error(
      `CI requires PostgreSQL at ${redact(adminUrl)} (VITRINE_TEST_POSTGRES_URL): ${probe.reason}`,
    );
  }
  return backends;
}

/** A new temp folder holding an empty, initialised PGlite cluster of its own. */
async function openPGliteTestDatabase(): Promise<TestDatabase> {
  const dir = await tempDir('vitrine-pglite-');
  try {
    await copyPGliteTemplate(dir.path);
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
  return { dataDir: dir.path, cleanup: dir.cleanup };
}

/** Creates `vitrine_test_<random>` on the server; cleanup drops it, closing stragglers. */
async function openPostgresTestDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `vitrine_test_${randomBytes(6).toString('hex')}`;
  await runAdminStatement(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    cleanup: () => runAdminStatement(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
