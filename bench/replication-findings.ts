/**
 * Findings replication: many findings created at one center until both others hold them
 * (beside a raw batched insert of the same rows), and the propagation latency of single
 * finding updates to each peer, with and without witnessing.
 */
import { join } from 'node:path';
import type { Client } from '@connectrpc/connect';
import { Severity } from '@vitrine/proto/finding';
import { LogService } from '@vitrine/proto/log';
import type { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { DEV_CENTERS } from '../cli/src/dev-federation.js';
import type { CenterId } from './bench-federation.js';
import { writeRandomFile } from './bench-files.js';
import { median, percentile, waitFor } from './measure.js';
import { rawFindingInsert } from './raw-finding-insert.js';
import {
  type BenchContext,
  type BenchTable,
  ORIGIN,
  publish,
  RECEIVERS,
  seconds,
  times,
  unlessNotFound,
  untilAvailable,
} from './replication-bench.js';
import { seedFindings } from './seed-history.js';

/** Creations kept in flight at the origin. */
const CREATE_CONCURRENCY = 16;
/** Findings the update benchmark rotates over, so no finding's history grows long. */
const UPDATED_FINDINGS = 20;

/** A small artifact, available everywhere, for findings to name. */
async function findingsArtifact(ctx: BenchContext): Promise<string> {
  const file = join(ctx.work, 'findings-artifact.bin');
  await writeRandomFile(file, 1024 * 1024, 'findings');
  const { id } = await publish(ctx.federation, file, { version: 'findings' });
  await untilAvailable(ctx.federation, id);
  return id;
}

/** Creates `count` findings at `registry`, a few in flight; their ids in sequence order. */
async function createFindings(
  registry: Client<typeof RegistryService>,
  artifactId: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const { finding } = await registry.createFinding({
        artifactIds: [artifactId],
        title: `bench finding ${next}`,
        severity: Severity.MEDIUM,
      });
      ids.push(finding?.id ?? '');
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  return ids.sort((a, b) => seqOf(a) - seqOf(b));
}

function seqOf(findingId: string): number {
  return Number(findingId.slice(findingId.lastIndexOf('-') + 1));
}

/** Whether every receiving center holds finding `id` (and so, in origin order, all before it). */
async function allHold(ctx: BenchContext, id: string, title?: string): Promise<boolean> {
  for (const center of RECEIVERS) {
    if (!(await holds(ctx, center, id, title))) return false;
  }
  return true;
}

/** Whether `center` holds finding `id` (with `title`, when given). */
export async function holds(ctx: BenchContext, center: CenterId, id: string, title?: string) {
  const got = await unlessNotFound(ctx.federation.center(center).registry.getFinding({ id }));
  return got?.finding !== undefined && (title === undefined || got.finding.title === title);
}

/**
 * `findings` created at the origin while the other two centers are stopped; then both
 * start and catch up. Timed from both serving until both hold the last finding, beside the
 * same rows inserted raw, in batches, into a fresh database of the same kind.
 */
export async function replicateFindings(ctx: BenchContext): Promise<BenchTable> {
  const count = ctx.sizes.findings;
  const artifactId = await findingsArtifact(ctx);
  await Promise.all(RECEIVERS.map((c) => ctx.federation.stopCenter(c)));
  const createStart = performance.now();
  const ids = await createFindings(ctx.federation.center(ORIGIN).registry, artifactId, count);
  const createMs = performance.now() - createStart;
  const startAt = performance.now();
  await Promise.all(RECEIVERS.map((c) => ctx.federation.startCenter(c)));
  const startMs = performance.now() - startAt;
  const catchUpMs = await waitFor(() => allHold(ctx, ids.at(-1) ?? ''), 50);
  const scratch = await ctx.federation.scratchDatabase('raw_insert');
  const rawMs = await rawFindingInsert(scratch, count, artifactId);
  const rate = (ms: number) => `${Math.round(count / (ms / 1000))}/s`;
  return {
    title: `${count} findings created at europe, until asia and us hold them (${ctx.federation.storageKind})`,
    headers: ['', 'time', 'findings/s', 'rate vs raw'],
    rows: [
      ['raw batched insert of the same rows (baseline)', seconds(rawMs), rate(rawMs), times(1)],
      [
        'vitrine: both others caught up',
        seconds(catchUpMs),
        rate(catchUpMs),
        times(rawMs / catchUpMs),
      ],
      ['(their start-up, before catching up)', seconds(startMs), '', ''],
      [
        `(creation at europe, ${CREATE_CONCURRENCY} calls in flight)`,
        seconds(createMs),
        rate(createMs),
        '',
      ],
    ],
  };
}

/**
 * `updates` single finding updates at the origin, one at a time: time from the update's
 * commit (its call returning) until each peer shows it (polled back to back), beside the
 * update call itself.
 */
export async function propagateUpdates(ctx: BenchContext): Promise<BenchTable> {
  const ids = await updatedFindings(ctx);
  const { call, seen } = await timeUpdates(ctx, ids, ctx.sizes.updates);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const row = (name: string, values: number[]) => [
    name,
    ms(median(values)),
    ms(percentile(values, 99)),
    times(median(values) / median(call)),
  ];
  return {
    title: `${ctx.sizes.updates} single finding updates at europe: from commit until each peer shows it`,
    headers: ['', 'p50', 'p99', 'p50 vs the call'],
    rows: [
      row('the update call at europe (baseline)', call),
      ...RECEIVERS.map((c) => row(`visible at ${c}`, seen.get(c) ?? [])),
    ],
  };
}

/** The findings the update benchmarks rotate over, created at the origin, held everywhere. */
export async function updatedFindings(ctx: BenchContext): Promise<string[]> {
  const origin = ctx.federation.center(ORIGIN).registry;
  const artifactId = await findingsArtifact(ctx);
  const ids = await createFindings(origin, artifactId, UPDATED_FINDINGS);
  await waitFor(() => allHold(ctx, ids.at(-1) ?? ''), 50);
  return ids;
}

/** Times `count` single updates at the origin: the call, and until each peer shows it. */
async function timeUpdates(ctx: BenchContext, ids: readonly string[], count: number) {
  const origin = ctx.federation.center(ORIGIN).registry;
  const call: number[] = [];
  const seen = new Map<CenterId, number[]>(RECEIVERS.map((c) => [c, []]));
  for (let i = 0; i < count; i++) {
    const id = ids[i % ids.length] ?? '';
    const title = `bench update ${i} ${performance.now()}`;
    const start = performance.now();
    await origin.updateFinding({ id, title });
    const committed = performance.now();
    call.push(committed - start);
    await Promise.all(
      RECEIVERS.map(async (center) => {
        await waitFor(() => holds(ctx, center, id, title), 1);
        seen.get(center)?.push(performance.now() - committed);
      }),
    );
  }
  return { call, seen };
}

/**
 * The order of the rounds, without and with witnessing: ABBA, so a drift in the machine's
 * load over the run (rising or falling) touches both settings alike.
 */
const WITNESS_ORDER = [false, true, true, false] as const;
const WITNESS_ROUNDS = WITNESS_ORDER.length / 2;

/**
 * The cost of witnessing to finding propagation: single finding updates at the origin timed
 * as `updates` does, with every center gathering cosignatures from its peers' witnesses for
 * each checkpoint it signs, and with gathering off (the baseline), in rounds of the same run
 * ordered off, on, on, off, every center restarted between rounds. The origin's latest
 * checkpoint after each witnessed round shows the cosignatures were gathered meanwhile.
 */
export async function witnessingOverhead(ctx: BenchContext): Promise<BenchTable> {
  const ids = await updatedFindings(ctx);
  const perRound = Math.max(1, Math.round(ctx.sizes.updates / WITNESS_ROUNDS));
  const samples = { off: new Map<CenterId, number[]>(), on: new Map<CenterId, number[]>() };
  let cosigners = 0;
  for (const witnessing of WITNESS_ORDER) {
    await restartAll(ctx, witnessing);
    const { seen } = await timeUpdates(ctx, ids, perRound);
    const into = witnessing ? samples.on : samples.off;
    for (const [center, values] of seen) into.set(center, [...(into.get(center) ?? []), ...values]);
    if (witnessing) cosigners = await cosignersOfLatest(ctx);
  }
  await restartAll(ctx, true);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const rows = RECEIVERS.flatMap((center) => {
    const off = samples.off.get(center) ?? [];
    const on = samples.on.get(center) ?? [];
    return [50, 99].map((p) => {
      const [a, b] = [percentile(off, p), percentile(on, p)];
      return [`visible at ${center}, p${p}`, ms(a), ms(b), times(b / a)];
    });
  });
  return {
    title: `${perRound * WITNESS_ROUNDS} finding updates at europe each way (rounds off, on, on, off), until each peer shows them, with and without witnessing (${ctx.federation.storageKind}; europe's last checkpoint had ${cosigners} cosignatures)`,
    headers: ['', 'no witnessing (baseline)', 'witnessing', 'ratio'],
    rows,
  };
}

async function restartAll(ctx: BenchContext, witnessing: boolean): Promise<void> {
  await Promise.all(DEV_CENTERS.map(({ id }) => ctx.federation.stopCenter(id)));
  await Promise.all(DEV_CENTERS.map(({ id }) => ctx.federation.startCenter(id, { witnessing })));
}

/** How many cosignatures europe's latest checkpoint carries, once it has any it will get. */
async function cosignersOfLatest(ctx: BenchContext): Promise<number> {
  const log = createGrpcClient(LogService, ctx.federation.center(ORIGIN).url);
  let count = 0;
  await waitFor(async () => {
    count = (await log.getCheckpoint({})).cosigners.length;
    return count >= RECEIVERS.length;
  }, 50);
  return count;
}

/** Events a center that was away has to catch up on, at each history length. */
const CATCH_UP_EVENTS = 10;

/**
 * Catch-up cost against history: every center's log is grown to each length in `logs`
 * (findings seeded straight into the three stopped centers' databases, as if created at the
 * origin and replicated: see seed-history.ts), then both others stop, the origin creates 10
 * more findings, and both start again: the time from both serving until both hold the last
 * of the 10, median of `runs` at each length, beside the shortest log's. Also the origin's
 * own start-up at each length.
 */
export async function catchUpAtLength(ctx: BenchContext): Promise<BenchTable> {
  const artifactId = await findingsArtifact(ctx);
  const logs = [...ctx.sizes.logs].sort((a, b) => a - b);
  let created = 0;
  const rows: string[][] = [];
  let first = Number.NaN;
  for (const length of logs) {
    await Promise.all(DEV_CENTERS.map(({ id }) => ctx.federation.stopCenter(id)));
    const grow = Math.max(0, length - created);
    const growMs = await seedFindings(ctx.federation.home, ORIGIN, RECEIVERS, artifactId, grow);
    created = Math.max(created, length);
    const originAt = performance.now();
    await ctx.federation.startCenter(ORIGIN);
    const originStartMs = performance.now() - originAt;
    await Promise.all(RECEIVERS.map((c) => ctx.federation.startCenter(c)));
    const origin = ctx.federation.center(ORIGIN).registry;
    const catchUp: number[] = [];
    const startUp: number[] = [];
    for (let run = 0; run < ctx.sizes.runs; run++) {
      await Promise.all(RECEIVERS.map((c) => ctx.federation.stopCenter(c)));
      const ids = await createFindings(origin, artifactId, CATCH_UP_EVENTS);
      created += CATCH_UP_EVENTS;
      const startAt = performance.now();
      await Promise.all(RECEIVERS.map((c) => ctx.federation.startCenter(c)));
      startUp.push(performance.now() - startAt);
      catchUp.push(await waitFor(() => allHold(ctx, ids.at(-1) ?? ''), 5));
    }
    const ms = median(catchUp);
    if (Number.isNaN(first)) first = ms;
    rows.push([
      `log of ${length.toLocaleString('en')} findings (seeded in ${seconds(growMs)})`,
      `${ms.toFixed(0)} ms`,
      catchUp.map((v) => v.toFixed(0)).join(' / '),
      seconds(median(startUp)),
      seconds(originStartMs),
      times(ms / first),
    ]);
  }
  return {
    title: `${CATCH_UP_EVENTS} findings created at europe while asia and us were stopped: from both serving again until both hold them (${ctx.federation.storageKind}; median of ${ctx.sizes.runs})`,
    headers: [
      '',
      'catch-up',
      'runs, ms',
      '(their start-up before it)',
      "(europe's start-up)",
      'vs the shortest log',
    ],
    rows,
  };
}
