import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));

/**
 * Vitest global setup: tests run vitrine's sources, but the processes they start run the
 * `vitrine` command as users do, from the build; it is brought up to date with the sources
 * first (a fraction of a second, nothing when it is current).
 */
export default function setup(): void {
  execFileSync(process.execPath, [BUILD, '--if-stale'], { stdio: 'inherit' });
}
