import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyCluster, createPGliteClusters, PGLITE_TEMPLATE_ENV } from '@vitrine/storage';

/** Folder names of a template built by another process and left for reuse. */
const TEMPLATE_PREFIX = 'vitrine-pglite-template-';

let template: Promise<string> | undefined;

/**
 * Fills `target` with a freshly initialised, empty PGlite cluster. Running initdb takes
 * seconds per database, so it runs once per machine and PGlite version: the result is
 * kept under the temp directory and copied for every test database.
 */
export async function copyPGliteTemplate(target: string): Promise<void> {
  await copyCluster(await pgliteTemplate(), target);
}

/**
 * The folder of the template cluster: the one `VITRINE_PGLITE_TEMPLATE` names (during a
 * test run, the build's), else this machine's, built first if missing. Services the tests
 * start on fresh folders copy the same one instead of running initdb.
 */
export function pgliteTemplate(): Promise<string> {
  const given = process.env[PGLITE_TEMPLATE_ENV];
  template ??= given ? Promise.resolve(given) : findOrBuildTemplate();
  return template;
}

async function findOrBuildTemplate(): Promise<string> {
  const path = join(tmpdir(), `${TEMPLATE_PREFIX}${pgliteVersion()}`);
  try {
    readFileSync(join(path, 'PG_VERSION'));
    return path;
  } catch {
    return buildTemplate(path);
  }
}

/**
 * Runs initdb (in a child process, so the test run does not keep its memory) in a private
 * folder, then publishes it with an atomic rename, so a concurrent test process never sees
 * a half-built template. Losing the race is fine: the other process's template is identical.
 */
async function buildTemplate(path: string): Promise<string> {
  const building = await mkdtemp(join(tmpdir(), 'vitrine-pglite-building-'));
  await createPGliteClusters([building]);
  try {
    await rename(building, path);
  } catch {
    await rm(building, { recursive: true, force: true });
  }
  return path;
}

/** The installed PGlite version: a data folder only opens with the release that made it. */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = join(dirname(entry), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return version;
}
