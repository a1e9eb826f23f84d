import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPGliteClusters, installedPGliteVersion, isPGliteCluster } from '@vitrine/storage';

/**
 * Where `npm run build` keeps empty PGlite clusters, one per PGlite release
 * (`build/pglite/<version>`), for `vitrine dev` to copy instead of running initdb. The
 * same folder from cli/src and cli/dist, both two levels below the repository's root.
 */
export const PGLITE_TEMPLATES = fileURLToPath(new URL('../../build/pglite/', import.meta.url));

/** The template folder for the installed PGlite release under `root` (it may not exist). */
export async function pgliteTemplateFolder(root: string = PGLITE_TEMPLATES): Promise<string> {
  return join(root, await installedPGliteVersion());
}

/**
 * Makes the template cluster of the installed PGlite release under `root` if it is missing
 * (initdb, in a child process), and removes those of other releases, which no longer open.
 * Resolves to its folder.
 */
export async function buildPGliteTemplate(root: string = PGLITE_TEMPLATES): Promise<string> {
  const folder = await pgliteTemplateFolder(root);
  if (!(await isPGliteCluster(folder))) await createPGliteClusters([folder]);
  const version = basename(folder);
  for (const other of await readdir(root)) {
    if (other !== version && !other.startsWith('.')) {
      await rm(join(root, other), { recursive: true, force: true });
    }
  }
  return folder;
}
