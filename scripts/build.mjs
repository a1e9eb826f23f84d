#!/usr/bin/env node
// Builds what the `vitrine` command runs (`npm run build`; `npm install` runs it too):
//
// 1. vitrine's TypeScript compiled (esbuild) into ES modules in cli/dist, one whole module
//    per way the command starts: `vitrine.mjs` for every command, `dev.mjs` for the
//    `vitrine dev` supervisor, `serve.mjs` for a service, `node-flags.mjs` for the flags a
//    service needs. Every @vitrine package is compiled in, and only what the entry uses
//    (the packages declare no side effects); other packages stay imports from
//    node_modules. So the supervisor never loads PGlite, the services or the RPC stack.
//    (esbuild's shared chunks would save disk, not memory: its code splitting puts whole
//    files in a chunk, and so loaded the service code into the supervisor again.)
// 2. An empty PGlite cluster in build/pglite/<PGlite version>, which `vitrine dev` copies
//    for each of its databases instead of running initdb (seconds of CPU each) on its first
//    start. A cluster only opens with the PGlite release that made it, hence the version in
//    the name; a missing one makes `vitrine dev` run initdb as before.
//
//   node scripts/build.mjs               both
//   node scripts/build.mjs --if-stale    the JavaScript, only when a source is newer than it
//   node scripts/build.mjs --no-template the JavaScript only
//
// cli/dist is written beside its final place and swapped in, so a process starting during
// a build loads one build or the other, never a mix. Quiet unless something fails.
import { readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Two levels below the root, like cli/src, so paths relative to a module stay the same. */
const DIST = join(ROOT, 'cli/dist');
/** The file whose date says when cli/dist was built: the newest source it was built from. */
const STAMP = join(DIST, 'vitrine.mjs');
const ENTRIES = {
  vitrine: 'cli/src/index.ts',
  dev: 'cli/src/dev-main.ts',
  serve: 'cli/src/serve-main.ts',
  'node-flags': 'cli/src/node-flags.ts',
};
/** Folders whose files go into the build: each workspace's `src`, and its package.json. */
const WORKSPACE_GROUPS = ['libs', 'services'];

/**
 * Compiles the entries and every @vitrine package they import into a folder beside cli/dist,
 * then swaps it in. The build is dated with the newest source seen before it started, so a
 * file saved during the build makes the next `--if-stale` build again.
 */
async function buildJavaScript(newest) {
  const { build } = await loadEsbuild();
  const staging = join(ROOT, 'cli', `.dist-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await build({
      absWorkingDir: ROOT,
      entryPoints: Object.entries(ENTRIES).map(([out, entry]) => ({ in: entry, out })),
      outdir: staging,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      plugins: [thirdPartyExternal],
    });
    const seconds = newest / 1000;
    await utimes(join(staging, 'vitrine.mjs'), seconds, seconds);
    await swapIn(staging);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Replaces cli/dist with `staging`; if another build got there first, its result stands. */
async function swapIn(staging) {
  const old = join(ROOT, 'cli', `.dist-old-${process.pid}`);
  await rename(DIST, old).catch((err) => {
    if (err.code !== 'ENOENT') throw err;
  });
  try {
    await rename(staging, DIST);
  } catch (err) {
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  } finally {
    await rm(old, { recursive: true, force: true });
  }
}

async function canBuild() {
  return import('esbuild').then(
    () => true,
    () => false,
  );
}

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch (cause) {
    throw new Error(
      'building vitrine needs its development dependencies (esbuild): run `npm install` without --omit=dev',
      { cause },
    );
  }
}

/**
 * Leaves every bare import but @vitrine's own packages to Node's resolution at run time.
 * They are marked free of side effects, so an entry that uses none of a package's exports
 * does not load it: a barrel such as @vitrine/advisories would otherwise load everything its
 * modules import (ajv for SARIF) into a process that uses one function of it. vitrine's
 * sources import no third-party package for its side effects alone.
 */
const thirdPartyExternal = {
  name: 'third-party-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@vitrine/')
        ? undefined
        : { path: args.path, external: true, sideEffects: false },
    );
  },
};

/** Latest modification time of any file the build is made from. */
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

/** The template cluster, made by the code just built (initdb runs in a child process). */
async function buildTemplate() {
  const { buildPGliteTemplate } = await import(pathToFileURL(STAMP).href);
  await buildPGliteTemplate();
}

async function main() {
  const { values } = parseArgs({
    options: { 'if-stale': { type: 'boolean' }, 'no-template': { type: 'boolean' } },
  });
  const newest = await newestSource();
  const built = await mtimeOf(STAMP);
  // An install without development dependencies over a copied build keeps that build.
  const prebuilt = built >= 0 && !(await canBuild());
  if (!prebuilt && (!values['if-stale'] || built < newest)) await buildJavaScript(newest);
  if (!values['if-stale'] && !values['no-template']) await buildTemplate();
}

try {
  await main();
} catch (err) {
  console.error(`vitrine build failed: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof Error && err.cause) console.error(err.cause);
  process.exitCode = 1;
}
