// Fails when a workspace package (libs/*, services/*, cli) imports a package its
// package.json does not declare, declares a runtime dependency it never imports, or names a
// version other than the root's. Code under a package's src/ is what it ships: what it
// imports belongs in `dependencies` (workspace packages as "*"). Everything else (tests,
// helper scripts) may also use `devDependencies`. Imports are read with TypeScript's own
// pre-processor (static, dynamic and type-only imports, re-exports).
//
// `node .ci/check-dependencies.mjs --json` prints what is missing or extra per package.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const rootVersions = { ...rootManifest.dependencies, ...rootManifest.devDependencies };
const builtins = new Set(builtinModules);
const SOURCE = /\.(ts|mts|cts|tsx|js|mjs|cjs)$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.vitrine', 'vectors']);

/** Every workspace folder the root package.json names (`libs/*` expanded). */
function workspaces() {
  return rootManifest.workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent))
      .map((name) => `${parent}/${name}`)
      .filter((dir) => statSync(join(root, dir, 'package.json'), { throwIfNoEntry: false }));
  });
}

/** Source files under a folder, recursively. */
function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_FOLDERS.has(entry.name) ? [] : sourceFiles(path);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`), if any. */
export function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) {
    return undefined;
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtins.has(name) ? undefined : name;
}

/** The packages one file imports. */
function importsOf(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => packageOf(f.fileName)).filter((name) => name);
}

/** What is wrong with one workspace package's declarations. */
function check(dir) {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const declared = manifest.dependencies ?? {};
  const dev = manifest.devDependencies ?? {};
  const runtime = new Map();
  const other = new Map();
  for (const file of sourceFiles(join(root, dir))) {
    const inSrc = relative(join(root, dir), file).startsWith(`src/`);
    for (const name of importsOf(file)) {
      if (name === manifest.name) continue;
      const into = inSrc ? runtime : other;
      if (!into.has(name)) into.set(name, relative(root, file));
    }
  }
  const problems = [];
  const missing = { dependencies: [], devDependencies: [] };
  for (const [name, file] of runtime) {
    if (!(name in declared)) {
      problems.push(`imports ${name} (${file}) but does not list it in dependencies`);
      missing.dependencies.push(name);
    }
  }
  for (const [name, file] of other) {
    if (!(name in declared) && !(name in dev) && !runtime.has(name)) {
      problems.push(`imports ${name} (${file}) but lists it in neither dependencies`);
      missing.devDependencies.push(name);
    }
  }
  const unused = Object.keys(declared).filter((name) => !runtime.has(name));
  for (const name of unused) {
    problems.push(`lists ${name} in dependencies but nothing under src/ imports it`);
  }
  for (const [name, spec] of Object.entries({ ...declared, ...dev })) {
    const wanted = name.startsWith('@vitrine/') ? '*' : rootVersions[name];
    if (wanted === undefined) {
      problems.push(`lists ${name}, which the root package.json does not pin`);
    } else if (spec !== wanted) {
      problems.push(`lists ${name}@${spec}; the root pins ${wanted}`);
    }
  }
  return { dir, name: manifest.name, problems, missing, unused };
}

const results = workspaces().map(check);
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const problems = results.flatMap((r) => r.problems.map((p) => `${r.dir}: ${p}`));
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(
      `${problems.length} undeclared or stale dependencies: list each package's imports in its package.json`,
    );
    process.exit(1);
  }
  console.log(`dependencies: ${results.length} workspace packages declare what they import`);
}
