// vitrine's packages are TypeScript. The vitrine command runs them compiled into one ES
// module, cli/dist/vitrine.mjs, which Node loads as it is: no compiler in the process, so a
// running center holds about 100 MiB less than one that compiles its sources as it loads
// them. The bundle is rebuilt (esbuild, a fraction of a second) whenever a source file is
// newer than it, so the command always runs the code in the tree.
import { mkdir, readdir, rename, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(ROOT, 'cli/src/index.ts');
/** Two levels below the root, like cli/src, so paths relative to a module stay the same. */
export const BUNDLE = join(ROOT, 'cli/dist/vitrine.mjs');
/** Folders whose files go into the bundle: each workspace's `src`, and its package.json. */
const WORKSPACE_GROUPS = ['libs', 'services'];

/** The bundle's URL, rebuilt first if any source is newer than it. */
export async function freshBundle() {
  const [built, newest] = await Promise.all([mtimeOf(BUNDLE), newestSource()]);
  if (built < newest) await buildBundle(newest);
  return pathToFileURL(BUNDLE).href;
}

/**
 * Compiles cli/src/index.ts and every @vitrine package it imports into the bundle; other
 * packages stay imports from node_modules. Written to a temp file and renamed into place,
 * so processes starting at once never load a partial bundle. The bundle is dated with the
 * newest source seen before the build, so a file saved during the build triggers another.
 */
export async function buildBundle(newest = Date.now()) {
  const { build, stop } = await import('esbuild');
  const temp = `${BUNDLE}.${process.pid}.tmp`;
  await mkdir(dirname(BUNDLE), { recursive: true });
  await build({
    entryPoints: [ENTRY],
    outfile: temp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    plugins: [thirdPartyExternal],
  }).finally(() => stop()); // esbuild's helper process is not needed past the build
  const seconds = newest / 1000;
  await utimes(temp, seconds, seconds);
  await rename(temp, BUNDLE);
}

/** Leaves every bare import but @vitrine's own packages to Node's resolution at run time. */
const thirdPartyExternal = {
  name: 'third-party-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@vitrine/') ? undefined : { path: args.path, external: true },
    );
  },
};

/** Latest modification time of any file the bundle is built from. */
async function newestSource() {
  const workspaces = [join(ROOT, 'cli')];
  for (const group of WORKSPACE_GROUPS) {
    for (const name of await readdir(join(ROOT, group))) workspaces.push(join(ROOT, group, name));
  }
  const times = await Promise.all(
    workspaces.flatMap((w) => [newestIn(join(w, 'src')), mtimeOf(join(w, 'package.json'))]),
  );
  return Math.max(...times);
}

async function newestIn(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const times = await Promise.all(
    entries.filter((e) => e.isFile()).map((e) => mtimeOf(join(e.parentPath ?? e.path, e.name))),
  );
  return Math.max(-1, ...times);
}

async function mtimeOf(path) {
  return (await stat(path).catch(() => undefined))?.mtimeMs ?? -1;
}
