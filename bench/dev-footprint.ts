/**
 * Footprint of `vitrine dev` on embedded storage: how long the whole federation takes to
 * serve, and how much memory each of its processes holds once idle. Each run starts
 * `vitrine dev --json` on a fresh data folder and a free base port (first start: keys and
 * databases created), waits for its ready line, lets it settle, reads every process's
 * resident set (VmRSS) and the proportional set of all (Pss: the pages they share, the Node
 * binary among them, counted once) from /proc, stops it, and then does the same again on the same folder
 * (restart). Prints the median of the runs per phase and process.
 *
 *   npx tsx bench/dev-footprint.ts [--runs N=3] [--settle SECONDS=10] [--node-flag FLAG]...
 *
 * --node-flag passes a flag to the Node that runs `vitrine dev` (NODE_OPTIONS reaches every
 * service as well, for flags it accepts). VITRINE_DATABASE_URL is ignored: this measures PGlite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePortBlock } from '@vitrine/testing';
import { formatTable } from '../cli/src/text-table.js';
import { median } from './measure.js';

const VITRINE_BIN = fileURLToPath(new URL('../bin/vitrine.js', import.meta.url));
/** Ports `vitrine dev --base-port N` uses: N up to N+31 (access, then three centers). */
const PORT_SPAN = 32;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    settle: { type: 'string', default: '10' },
    'node-flag': { type: 'string', multiple: true, default: [] },
  },
});

/** What one start of the federation showed: time to ready and idle RSS per process. */
interface Sample {
  readonly readyMs: number;
  readonly rssMiB: ReadonlyMap<string, number>;
  /** Proportional set size of all processes: pages they share counted once. */
  readonly pssMiB: number;
}

/** Resident memory (VmRSS) of a process now, in MiB. */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** Proportional set size (Pss) of a process now, in MiB: shared pages split among sharers. */
async function pssMiB(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? Number.NaN) / 1024;
}

/** Ids of a process's direct children (Linux 3.5 and later). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}

/** The service a `vitrine serve … --config <home>/config/<name>.json` child runs. */
async function serviceName(pid: number): Promise<string> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  const config = args[args.indexOf('--config') + 1] ?? '';
  return /([^/]+)\.json$/.exec(config)?.[1] ?? `pid ${pid}`;
}

/** Starts `vitrine dev` and resolves once it prints its ready line, with the time it took. */
async function startDev(
  home: string,
  basePort: number,
): Promise<{ child: ChildProcess; ms: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, VITRINE_LOG_LEVEL: 'warn' };
  delete env.VITRINE_DATABASE_URL;
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...values['node-flag'],
      VITRINE_BIN,
      'dev',
      '--data',
      home,
      '--base-port',
      `${basePort}`,
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`vitrine dev exited (${code}) before ready`))),
  );
  const ready = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      if (line.includes('"ready":true')) resolve();
    });
  });
  await Promise.race([ready, exited]);
  return { child, ms: performance.now() - started };
}

/** Stops `vitrine dev` (SIGTERM, as Ctrl-C would) and waits until it has exited. */
async function stopDev(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** One start on `home`: ready time, then, after the settle time, RSS of every process. */
async function sample(home: string): Promise<Sample> {
  const basePort = await freePortBlock(PORT_SPAN);
  const { child, ms } = await startDev(home, basePort);
  try {
    await new Promise((resolve) => setTimeout(resolve, Number(values.settle) * 1000));
    const pid = child.pid ?? 0;
    const rss = new Map<string, number>([['dev (parent)', await rssMiB(pid)]]);
    let pss = await pssMiB(pid);
    for (const service of await childrenOf(pid)) {
      rss.set(await serviceName(service), await rssMiB(service));
      pss += await pssMiB(service);
    }
    return { readyMs: ms, rssMiB: rss, pssMiB: pss };
  } finally {
    await stopDev(child);
  }
}

/** Median figures of one phase (first start or restart) as table rows. */
function rows(samples: readonly Sample[]): string[][] {
  const names = [...(samples[0]?.rssMiB.keys() ?? [])];
  const services = names.filter((name) => name !== 'dev (parent)');
  const totals = samples.map((s) => [...s.rssMiB.values()].reduce((a, b) => a + b, 0));
  const serviceTotals = samples.map((s) =>
    services.reduce((sum, name) => sum + (s.rssMiB.get(name) ?? 0), 0),
  );
  const mib = (values: number[]) => `${median(values).toFixed(0)} MiB`;
  return [
    ['time to ready', `${(median(samples.map((s) => s.readyMs)) / 1000).toFixed(1)} s`],
    ...names.map((name) => [`RSS ${name}`, mib(samples.map((s) => s.rssMiB.get(name) ?? 0))]),
    ['RSS services', mib(serviceTotals)],
    ['RSS all', mib(totals)],
    ['PSS all', mib(samples.map((s) => s.pssMiB))],
  ];
}

async function main(): Promise<void> {
  const runs = Number(values.runs);
  const first: Sample[] = [];
  const restart: Sample[] = [];
  console.log(
    `vitrine dev footprint, ${new Date().toISOString()}, ${runs} runs, idle RSS after ${values.settle} s`,
  );
  for (let run = 0; run < runs; run += 1) {
    const home = await mkdtemp(join(tmpdir(), 'vitrine-dev-footprint-'));
    try {
      first.push(await sample(home));
      restart.push(await sample(home));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }
  for (const [title, samples] of [
    ['first start (fresh data folder)', first],
    ['restart (same data folder)', restart],
  ] as const) {
    console.log(`\n${title}, medians`);
    for (const line of formatTable(['figure', 'value'], rows(samples))) console.log(`  ${line}`);
  }
}

await main();
