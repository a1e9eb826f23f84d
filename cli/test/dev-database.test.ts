import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installedPGliteVersion, isPGliteCluster, PGLITE_TEMPLATE_ENV } from '@vitrine/storage';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prepareDevPGlite } from '../src/dev-database.js';
import { buildPGliteTemplate } from '../src/pglite-template.js';

const CENTERS = ['asia', 'europe', 'us'];
const FOLDERS = ['access/db', 'centers/asia/db', 'centers/europe/db', 'centers/us/db'];
/** A file put in a template: every database copied from it holds it too. */
const MARKER = 'marker-of-this-template';

/** The test run's empty cluster (libs/testing's global setup). */
const RUN_TEMPLATE = process.env[PGLITE_TEMPLATE_ENV] ?? '';

describe('vitrine dev: databases from the build template', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('vitrine-dev-db-');
    // Without it, the folder named here would be copied whatever the build left.
    delete process.env[PGLITE_TEMPLATE_ENV];
  });
  afterEach(() => {
    delete process.env[PGLITE_TEMPLATE_ENV];
  });
  afterAll(async () => {
    process.env[PGLITE_TEMPLATE_ENV] = RUN_TEMPLATE;
    await dir.cleanup();
  });

  /** A template root holding a marked cluster under `version`. */
  async function templates(name: string, version: string): Promise<string> {
    const root = join(dir.path, name);
    await cp(RUN_TEMPLATE, join(root, version), { recursive: true });
    await writeFile(join(root, version, MARKER), '');
    return root;
  }

  it('copies the template of the installed PGlite for every database', async () => {
    const root = await templates('current', await installedPGliteVersion());
    const home = join(dir.path, 'home-current');
    expect(await prepareDevPGlite(home, CENTERS, undefined, root)).toBe('template');
    for (const folder of FOLDERS) {
      expect(await readdir(join(home, folder))).toContain(MARKER);
    }
    // A restart finds every database and makes none.
    expect(await prepareDevPGlite(home, CENTERS, undefined, root)).toBeUndefined();
  });

  it('leaves out the centers kept on PostgreSQL', async () => {
    const root = await templates('some-postgres', await installedPGliteVersion());
    const home = join(dir.path, 'home-postgres');
    const postgres = new Map([['europe', 'postgres://127.0.0.1/test']]);
    expect(await prepareDevPGlite(home, CENTERS, postgres, root)).toBe('template');
    expect(await isPGliteCluster(join(home, 'centers/asia/db'))).toBe(true);
    expect(await readdir(join(home, 'centers')).then((names) => names.sort())).toEqual([
      'asia',
      'us',
    ]);
  });

  it('runs initdb when the template is of another PGlite release, or missing', async () => {
    const root = await templates('stale', '0.0.1');
    const home = join(dir.path, 'home-stale');
    expect(await prepareDevPGlite(home, CENTERS, undefined, root)).toBe('initdb');
    for (const folder of FOLDERS) {
      expect(await isPGliteCluster(join(home, folder))).toBe(true);
      expect(await readdir(join(home, folder))).not.toContain(MARKER);
    }
    const empty = join(dir.path, 'no-templates');
    await mkdir(empty);
    process.env[PGLITE_TEMPLATE_ENV] = RUN_TEMPLATE; // no second initdb: the run's template
    expect(await prepareDevPGlite(join(dir.path, 'home-none'), CENTERS, undefined, empty)).toBe(
      'template',
    );
  });

  it('the build makes the template of the installed release and drops stale ones', async () => {
    const root = await templates('build', '0.0.1');
    process.env[PGLITE_TEMPLATE_ENV] = RUN_TEMPLATE; // the build's initdb, as a copy
    const folder = await buildPGliteTemplate(root);
    expect(folder).toBe(join(root, await installedPGliteVersion()));
    expect(await isPGliteCluster(folder)).toBe(true);
    expect(await readdir(root)).toEqual([await installedPGliteVersion()]);
  });
});
