import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { VitrineError } from '@vitrine/errors';
import { copyCluster } from './copy-cluster.js';

const execFileAsync = promisify(execFile);

/**
 * Runs PGlite's initdb in the folder named by its second argument. PGlite is imported from
 * the URL in the first, the copy the parent process resolved.
 */
const INITDB_SCRIPT = `
const [url, dataDir] = process.argv.slice(-2);
const { PGlite } = await import(url);
const pglite = await PGlite.create({ dataDir });
await pglite.close();
`;

/**
 * Names a folder holding an initialised, empty cluster of the installed PGlite release to
 * copy instead of running initdb. initdb takes seconds of CPU, and a test run that starts
 * services on fresh folders dozens of times sets it once for all of them.
 */
export const PGLITE_TEMPLATE_ENV = 'VITRINE_PGLITE_TEMPLATE';

/** Whether `folder` holds an initialised cluster (initdb writes PG_VERSION). */
export async function isPGliteCluster(folder: string): Promise<boolean> {
  return access(join(folder, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
}

/**
 * The installed PGlite release. A data folder only opens with the release that made it, so
 * a template kept for later is kept under this name.
 */
export async function installedPGliteVersion(): Promise<string> {
  // require's resolution rather than import.meta.resolve, which vitest's global setup lacks.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  // The package's entry lies in its dist folder; its manifest is not among its exports.
  const manifest = join(dirname(entry), '..', 'package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return version;
}

/** How {@link createPGliteClusters} made the folders it filled. */
export type ClusterSource = 'template' | 'initdb';

/**
 * Makes each of `folders` that is missing or empty an initialised, empty PGlite cluster,
 * running initdb once for all of them. initdb runs in a child process: PGlite's initdb
 * grows the WebAssembly memory of both its instances to several hundred MiB, which a process
 * keeps once grown, so a center that initialised its own database in process held several
 * times the memory of one opening an existing cluster (docs/embedded-footprint.md). Each folder is filled under a temporary name
 * beside it and renamed into place, so a crash never leaves a half-made cluster. Folders
 * that hold a cluster, or other files, are left as they are. With {@link PGLITE_TEMPLATE_ENV}
 * set, its cluster is copied and no initdb runs; otherwise `options.template`, when it names
 * a cluster, is. Resolves to how the folders were made, or undefined when none was missing.
 */
export async function createPGliteClusters(
  folders: readonly string[],
  options: { template?: string } = {},
): Promise<ClusterSource | undefined> {
  const missing: string[] = [];
  for (const folder of folders) {
    if (!(await isPGliteCluster(folder)) && (await isEmptyOrAbsent(folder))) missing.push(folder);
  }
  const first = missing[0];
  if (first === undefined) return undefined;
  const given = process.env[PGLITE_TEMPLATE_ENV];
  if (given) {
    await copyToEach(await checkedTemplate(given), missing);
    return 'template';
  }
  if (options.template !== undefined && (await isPGliteCluster(options.template))) {
    await copyToEach(options.template, missing);
    return 'template';
  }
  await mkdir(dirname(first), { recursive: true });
  const built = await mkdtemp(join(dirname(first), `.${basename(first)}-initdb-`));
  try {
    await runInitdb(built);
    await copyToEach(built, missing);
  } finally {
    await rm(built, { recursive: true, force: true });
  }
  return 'initdb';
}

async function checkedTemplate(folder: string): Promise<string> {
  if (await isPGliteCluster(folder)) return folder;
  throw new VitrineError(
    'failed_precondition',
    `${PGLITE_TEMPLATE_ENV} does not name an initialised PGlite cluster`,
  );
}

function copyToEach(template: string, folders: readonly string[]): Promise<unknown> {
  return Promise.all(folders.map((folder) => publishCopy(template, folder)));
}

async function isEmptyOrAbsent(folder: string): Promise<boolean> {
  const entries = await readdir(folder).catch(() => []);
  return entries.length === 0;
}

async function runInitdb(dataDir: string): Promise<void> {
  const pglite = import.meta.resolve('@electric-sql/pglite');
  try {
    await execFileAsync(process.execPath, [
      '--input-type=module',
      '--eval',
      INITDB_SCRIPT,
      pglite,
      dataDir,
    ]);
  } catch (cause) {
    throw new VitrineError('internal', 'creating the embedded database (initdb) failed', {
      cause,
    });
  }
}

/** Copies the cluster to a temporary folder beside `folder`, then renames it into place. */
async function publishCopy(template: string, folder: string): Promise<void> {
  await mkdir(dirname(folder), { recursive: true });
  const staging = await mkdtemp(join(dirname(folder), `.${basename(folder)}-copy-`));
  try {
    await copyCluster(template, staging);
    await rmdir(folder).catch(() => {});
    await rename(staging, folder);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
