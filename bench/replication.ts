/**
 * Replication benchmarks: a federation of three centers, each a real `vitrine serve center`
 * process on a fresh data folder, against baselines measured in the same run (rsync over
 * SSH on loopback, a raw batched database insert). Prints a table per benchmark with the
 * peak resident memory (VmHWM) of every center process while it ran.
 *
 *   npx tsx bench/replication.ts [replicate] [delta] [findings] [updates] [watch] [catchup]
 *     [witnessing]
 *     [--size MiB=1024] [--runs N=3] [--findings N=100000] [--updates N=1000]
 *     [--logs N,N=1000,10000] [--cpu-prof] [--node-flag FLAG]... [--keep]
 *
 * `replicate` runs Syncthing (three daemons on loopback, installed with apt-get when missing
 * and run as root; skipped with the reason otherwise) beside the centers, run for run;
 * `delta` compares with rsync over SSH; `catchup` seeds every center's log (seed-history.ts) to each of --logs
 * findings and times catching up on 10 more at each length; `witnessing` times finding
 * updates as `updates` does, in alternating rounds with the centers gathering cosignatures
 * and not (--updates in all); `watch` times finding updates at europe until a WatchFindings
 * stream at asia delivers each, beside their propagation to asia in the same run (--updates).
 *
 * No benchmark named: all seven. VITRINE_DATABASE_URL=postgres://… runs the centers on that
 * PostgreSQL server (a fresh database, dropped afterwards) instead of PGlite. --cpu-prof
 * writes each center's CPU profile (`node --cpu-prof`) to a folder it prints; --node-flag passes
 * a flag to each center's Node (`--node-flag=--trace-gc`: its collections in the center's log);
 * --keep keeps the data folder (configs, logs of each center).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, freePortBlock } from '@vitrine/testing';
import { DEV_CENTERS } from '../cli/src/dev-federation.js';
import { formatTable } from '../cli/src/text-table.js';
import { BenchFederation } from './bench-federation.js';
import { cpuSeconds, peakRssMiB, resetPeakRss } from './process-stats.js';
import { replicateArtifact, replicateDelta } from './replication-artifacts.js';
import type { BenchContext, BenchTable } from './replication-bench.js';
import {
  catchUpAtLength,
  propagateUpdates,
  replicateFindings,
  witnessingOverhead,
} from './replication-findings.js';
import { watchLatency } from './replication-watch.js';
import { LoopbackSsh } from './ssh-loopback.js';
import { ensureSyncthing, LoopbackSyncthing } from './syncthing-loopback.js';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<BenchTable>> = {
  replicate: replicateArtifact,
  delta: replicateDelta,
  findings: replicateFindings,
  updates: propagateUpdates,
  watch: watchLatency,
  witnessing: witnessingOverhead,
  catchup: catchUpAtLength,
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    size: { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    findings: { type: 'string', default: '100000' },
    updates: { type: 'string', default: '1000' },
    logs: { type: 'string', default: '1000,10000' },
    'cpu-prof': { type: 'boolean', default: false },
    'node-flag': { type: 'string', multiple: true, default: [] },
    keep: { type: 'boolean', default: false },
  },
});
const chosen = positionals.length > 0 ? positionals : Object.keys(BENCHMARKS);
const unknown = chosen.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS)}`);
  process.exit(2);
}

/** CPU seconds each center process has used so far, by pid. */
async function cpuByPid(ctx: BenchContext): Promise<Map<number, number>> {
  const pids = DEV_CENTERS.map(({ id }) => ctx.federation.center(id).pid);
  return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuSeconds(pid)] as const)));
}

/**
 * Peak RSS of every running center since the last reset and the CPU time each used since
 * `before` (a center restarted meanwhile counts from its start), as two lines.
 */
async function processFigures(ctx: BenchContext, before: Map<number, number>): Promise<string[]> {
  const rows = await Promise.all(
    DEV_CENTERS.map(async ({ id }) => {
      const { pid } = ctx.federation.center(id);
      const cpu = (await cpuSeconds(pid)) - (before.get(pid) ?? 0);
      return { id, rss: await peakRssMiB(pid), cpu };
    }),
  );
  return [
    `peak RSS: ${rows.map((r) => `${r.id} ${r.rss.toFixed(0)} MiB`).join(', ')}`,
    `CPU time: ${rows.map((r) => `${r.id} ${r.cpu.toFixed(1)} s`).join(', ')}`,
  ];
}

/** The machine's load averages, `1.2 3.4 5.6`: figures measured beside other work say so. */
async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'vitrine-replication-'));
  const profiles = values['cpu-prof']
    ? await mkdtemp(join(tmpdir(), 'vitrine-profiles-'))
    : undefined;
  const federation = await BenchFederation.start({
    home: join(home, 'federation'),
    databaseUrl: process.env.VITRINE_DATABASE_URL,
    cpuProfileDir: profiles,
    nodeFlags: values['node-flag'],
  });
  let ssh: Promise<LoopbackSsh> | undefined;
  let syncthing: Promise<LoopbackSyncthing | string> | undefined;
  const ctx: BenchContext = {
    federation,
    work: home,
    ssh: () => {
      ssh ??= freePort().then((port) => LoopbackSsh.start(join(home, 'ssh'), port));
      return ssh;
    },
    syncthing: () => {
      syncthing ??= ensureSyncthing().then(
        async (missing) =>
          missing ?? LoopbackSyncthing.start(join(home, 'syncthing'), await freePortBlock(6)),
      );
      return syncthing;
    },
    sizes: {
      artifactMiB: Number(values.size),
      runs: Number(values.runs),
      findings: Number(values.findings),
      updates: Number(values.updates),
      logs: values.logs.split(',').map(Number),
    },
  };
  console.log(
    `vitrine replication benchmarks, ${new Date().toISOString()}, centers on ${federation.storageKind}`,
  );
  try {
    for (const name of chosen) {
      await Promise.all(DEV_CENTERS.map(({ id }) => resetPeakRss(federation.center(id).pid)));
      const before = await cpuByPid(ctx);
      const loadBefore = await loadAverage();
      const table = await BENCHMARKS[name]?.(ctx);
      if (!table) continue;
      console.log(`\n${table.title}`);
      for (const line of formatTable(table.headers, table.rows)) console.log(`  ${line}`);
      for (const line of await processFigures(ctx, before)) console.log(`  ${line}`);
      console.log(
        `  load average (1, 5, 15 min) ${loadBefore} at the start, ${await loadAverage()} at the end, ${cpus().length} CPUs`,
      );
    }
  } finally {
    await federation.close();
    await (await ssh)?.stop();
    const st = await syncthing?.catch(() => undefined);
    if (st && typeof st !== 'string') await st.stop();
    if (values.keep) console.log(`\ndata, configs and logs kept in ${home}`);
    else await rm(home, { recursive: true, force: true });
    if (profiles) console.log(`\nCPU profiles of the centers: ${profiles}`);
  }
}

await main();
