import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { installedPGliteVersion, PGLITE_TEMPLATE_ENV } from '@vitrine/storage';
import { freePort, freePortBlock, type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAccessConfig, prepareDevAccess } from '../cli/src/dev-federation.js';
import { SERVICE_NODE_FLAGS } from '../cli/src/node-flags.js';
import { DEV_PORT_SPAN } from './cli-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Packages a built install must not need: the compilers, and vitrine's own sources. */
const LEFT_OUT = new Set([
  '.bin',
  '.scratch',
  '@vitrine',
  'esbuild',
  '@esbuild',
  'tsx',
  'typescript',
]);
/** In a template cluster, and so in every database copied from it: the copy's proof. */
const MARKER = 'copied-from-build-template';

/**
 * A vitrine install that holds the build and nothing it was built from: bin/, cli/dist and
 * package.json copied, no TypeScript sources, and a node_modules of links to the
 * repository's packages less the compilers and @vitrine (whose packages are the sources).
 * Its build/pglite holds a template cluster of the installed PGlite marked with a file.
 */
async function builtInstall(root: string): Promise<void> {
  await cp(join(ROOT, 'bin'), join(root, 'bin'), { recursive: true });
  await cp(join(ROOT, 'cli/dist'), join(root, 'cli/dist'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(root, 'package.json'));
  await mkdir(join(root, 'node_modules'));
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (LEFT_OUT.has(name)) continue;
    await symlink(join(ROOT, 'node_modules', name), join(root, 'node_modules', name));
  }
  // The test run's template (libs/testing's global setup): an empty cluster of this PGlite.
  const made = process.env[PGLITE_TEMPLATE_ENV];
  if (!made) throw new Error(`${PGLITE_TEMPLATE_ENV} is not set: run the tests with vitest`);
  const template = join(root, 'build/pglite', await installedPGliteVersion());
  await cp(made, template, { recursive: true });
  await writeFile(join(template, MARKER), '');
}

/** The environment of a user's shell: no template named by a test run. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VITRINE_LOG_LEVEL: 'warn' };
  delete env[PGLITE_TEMPLATE_ENV];
  delete env.VITRINE_DATABASE_URL;
  return env;
}

function run(
  root: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/vitrine.js'), ...args],
      { env: userEnv(), timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Starts `vitrine ARGS` in `root` and resolves with its first JSON line on stdout. */
async function startUntilReady(
  root: string,
  args: string[],
): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, [join(root, 'bin/vitrine.js'), ...args], {
    env: userEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`vitrine ${args[0]} exited (${code})`))),
    ),
  ]);
  return { child, ready: JSON.parse(line) as Record<string, unknown> };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Node's command line of a process and of each of its children. */
async function commandLines(pid: number): Promise<string[][]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  const pids = [pid, ...children.split(' ').filter(Boolean).map(Number)];
  return Promise.all(
    pids.map(async (p) => (await readFile(`/proc/${p}/cmdline`, 'utf8')).split('\0')),
  );
}

describe('the built vitrine command, without sources or compilers', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('vitrine-built-');
    await builtInstall(dir.path);
  });
  afterAll(() => dir.cleanup());

  it('runs --help, dev --help and serve --help', async () => {
    // Three start-ups of the command: at once, as nothing is shared between them.
    const [help, dev, serve] = await Promise.all([
      run(dir.path, ['--help']),
      run(dir.path, ['dev', '--help']),
      run(dir.path, ['serve', '--help']),
    ]);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: vitrine [options] [command]');
    expect(help.stdout).toMatch(/artifact\s+publish, download and list review artifacts/);
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain('Usage: vitrine dev [options]');
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('Usage: vitrine serve [options] <service>');
  });

  it('refuses a bad config with the usual error, from serve.mjs', async () => {
    const result = await run(dir.path, ['serve', 'access', '--config', '/nonexistent.json']);
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('/nonexistent.json');
  });

  it('vitrine serve runs its service with the Node flags services need', async () => {
    const home = join(dir.path, 'serve-home');
    const port = await freePort();
    const config = join(dir.path, 'access.json');
    const keys = await prepareDevAccess(home, port);
    await writeFile(config, JSON.stringify(devAccessConfig(home, port, keys, [])));
    const { child, ready } = await startUntilReady(dir.path, [
      'serve',
      'access',
      '--config',
      config,
      '--json',
    ]);
    try {
      expect(ready).toMatchObject({ ready: true, service: 'access' });
      // On Node 22.15 and later the process itself was replaced; on Node 20 its child runs.
      const services = (await commandLines(child.pid ?? 0)).filter(
        (args) => args.includes('serve') && SERVICE_NODE_FLAGS.every((f) => args.includes(f)),
      );
      expect(services).toHaveLength(1);
      const args = services[0] ?? [];
      // Node's own arguments: the flags come before the script, as Node only reads them there.
      expect(args.indexOf(SERVICE_NODE_FLAGS[0] ?? '')).toBeLessThan(
        args.findIndex((a) => a.endsWith('vitrine.js')),
      );
    } finally {
      await stop(child);
    }
  });

  it('vitrine dev creates its databases from the build template and serves', async () => {
    const home = join(dir.path, 'dev-home');
    const base = await freePortBlock(DEV_PORT_SPAN);
    const { child, ready } = await startUntilReady(dir.path, [
      'dev',
      '--data',
      home,
      '--base-port',
      String(base),
      '--json',
    ]);
    try {
      expect(ready).toMatchObject({ ready: true, access: `http://127.0.0.1:${base}` });
      for (const db of ['access/db', 'centers/asia/db', 'centers/europe/db', 'centers/us/db']) {
        expect(await readdir(join(home, db))).toContain(MARKER);
      }
    } finally {
      await stop(child);
    }
  });

  it('says how to build when there is no build', async () => {
    const bare = join(dir.path, 'bare');
    await cp(join(ROOT, 'bin'), join(bare, 'bin'), { recursive: true });
    const result = await run(bare, ['--help']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('run `npm run build`');
  });
});
