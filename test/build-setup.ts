import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isPGliteCluster, PGLITE_TEMPLATE_ENV } from '@vitrine/storage';
import { pgliteTemplateFolder } from '../cli/src/pglite-template.js';

const BUILD = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));

/**
 * Vitest global setup: tests run vitrine's sources, but the processes they start run the
 * `vitrine` command as users do, from the build; it is brought up to date with the sources
 * first (a fraction of a second, nothing when it is current). The build's template cluster
 * (`build/pglite/<version>`, made by `npm install`, or here when missing) is then the one
 * every embedded database of the run is copied from (`VITRINE_PGLITE_TEMPLATE`, unless set).
 */
export default async function setup(): Promise<void> {
  const template = await pgliteTemplateFolder();
  const built = await isPGliteCluster(template);
  execFileSync(process.execPath, [BUILD, ...(built ? ['--if-stale'] : [])], { stdio: 'inherit' });
  process.env[PGLITE_TEMPLATE_ENV] ??= template;
}
