/**
 * Artifact replication beside its baselines: a new artifact published at one center until
 * it is available at both others, against Syncthing replicating the same file from one
 * daemon to two; then a new version with scattered edits, bytes fetched against rsync's
 * literal data.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_CENTERS } from '../cli/src/dev-federation.js';
import { type EditPattern, writeEditedFile, writeRandomFile } from './bench-files.js';
import { median } from './measure.js';
import { cpuSeconds, peakRssMiB, resetPeakRss } from './process-stats.js';
import {
  type BenchContext,
  type BenchTable,
  megabytes,
  publish,
  RECEIVERS,
  seconds,
  times,
  untilAvailable,
} from './replication-bench.js';
import type { RsyncResult } from './ssh-loopback.js';
import { LoopbackSyncthing } from './syncthing-loopback.js';

const MIB = 1024 * 1024;
const KIB = 1024;

/** rsync of `file` to a folder per receiving center, both at once; the slower one's result. */
async function rsyncToBoth(ctx: BenchContext, file: string, name: string): Promise<RsyncResult[]> {
  const ssh = await ctx.ssh();
  return Promise.all(
    RECEIVERS.map(async (center) => {
      await mkdir(join(ctx.work, 'rsync', center), { recursive: true });
      return ssh.rsync(file, join(ctx.work, 'rsync', center, name));
    }),
  );
}

/** CPU seconds of each center so far, in DEV_CENTERS order. */
function centersCpu(ctx: BenchContext): Promise<number[]> {
  return Promise.all(DEV_CENTERS.map(({ id }) => cpuSeconds(ctx.federation.center(id).pid)));
}

/** `1.2 s` */
const cpu = (s: number) => `${s.toFixed(1)} s`;
/** `117–139 MiB` */
const mibRange = (values: readonly number[]) =>
  `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} MiB`;

/**
 * New content published at the origin: from the start of the upload until available at
 * both other centers, beside Syncthing replicating the same file from one daemon to two
 * (scan and transfer) in the same run. Time, CPU of all three processes and the peak
 * resident memory of each, medians of the runs.
 */
export async function replicateArtifact(ctx: BenchContext): Promise<BenchTable> {
  const { artifactMiB, runs } = ctx.sizes;
  const bytes = artifactMiB * MIB;
  const syncthing = await ctx.syncthing();
  const st = { scan: [] as number[], transfer: [] as number[], cpu: [] as number[] };
  const stPeaks: number[][] = [];
  const v = {
    push: [] as number[],
    replicate: [] as number[],
    cpuPush: [] as number[],
    cpu: [] as number[],
  };
  const vPeaks: number[][] = [];
  for (let run = 0; run < runs; run++) {
    const file = join(ctx.work, `artifact-${run}.bin`);
    await writeRandomFile(file, bytes, `replicate-${run}`);
    if (typeof syncthing !== 'string') {
      const got = await syncthing.replicate(file, bytes);
      st.scan.push(got.scanMs);
      st.transfer.push(got.transferMs);
      st.cpu.push(got.cpuS.reduce((a, b) => a + b, 0));
      stPeaks.push([...got.peakRssMiB]);
    }
    await Promise.all(DEV_CENTERS.map(({ id }) => resetPeakRss(ctx.federation.center(id).pid)));
    const before = await centersCpu(ctx);
    const published = await publish(ctx.federation, file, { version: `replicate-${run}` });
    v.push.push(published.pushMs);
    const pushed = await centersCpu(ctx);
    v.cpuPush.push(pushed.reduce((sum, s, i) => sum + s - (before[i] ?? 0), 0));
    v.replicate.push(await untilAvailable(ctx.federation, published.id));
    const after = await centersCpu(ctx);
    v.cpu.push(after.reduce((sum, s, i) => sum + s - (before[i] ?? 0), 0));
    vPeaks.push(
      await Promise.all(DEV_CENTERS.map(({ id }) => peakRssMiB(ctx.federation.center(id).pid))),
    );
    await rm(file);
  }
  const total = (a: number[], b: number[]) => a.map((x, i) => x + (b[i] ?? 0));
  const vTotal = median(total(v.push, v.replicate));
  const vCpu = median(v.cpu);
  const mbps = (ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  const vitrineRow = (baseMs: number, baseCpu: number) => [
    'vitrine: push, then published → available at both',
    `${seconds(median(v.push))} + ${seconds(median(v.replicate))} = ${seconds(vTotal)}`,
    mbps(vTotal),
    `${cpu(median(v.cpuPush))} + ${cpu(median(v.cpu.map((c, i) => c - (v.cpuPush[i] ?? 0))))} = ${cpu(vCpu)}`,
    `${DEV_CENTERS.map(({ id }, i) => `${id} ${Math.max(...vPeaks.map((p) => p[i] ?? 0)).toFixed(0)}`).join(', ')} MiB`,
    Number.isNaN(baseMs) ? '' : times(vTotal / baseMs),
    Number.isNaN(baseCpu) ? '' : times(vCpu / baseCpu),
  ];
  const headers = [
    '',
    'time',
    'rate',
    'CPU, 3 processes',
    'peak RSS each',
    'time ratio',
    'CPU ratio',
  ];
  const title = `replicate ${artifactMiB} MiB of new content from europe to asia and us (medians of ${runs}, of each part and of the sum; highest peak RSS of the runs)`;
  if (typeof syncthing === 'string') {
    return {
      title,
      headers,
      rows: [
        [`Syncthing baseline skipped: ${syncthing}`, '', '', '', '', '', ''],
        vitrineRow(Number.NaN, Number.NaN),
      ],
    };
  }
  const stTotal = median(total(st.scan, st.transfer));
  const stCpu = median(st.cpu);
  return {
    title,
    headers,
    rows: [
      [
        `Syncthing ${await LoopbackSyncthing.version()}: scan + transfer (baseline)`,
        `${seconds(median(st.scan))} + ${seconds(median(st.transfer))} = ${seconds(stTotal)}`,
        mbps(stTotal),
        cpu(stCpu),
        `${NAMES.map((n, i) => `${n} ${Math.max(...stPeaks.map((p) => p[i] ?? 0)).toFixed(0)}`).join(', ')} MiB`,
        times(1),
        times(1),
      ],
      vitrineRow(stTotal, stCpu),
      [
        `(per run: Syncthing ${st.scan.map((s, i) => seconds(s + (st.transfer[i] ?? 0))).join(' / ')}, ${mibRange(stPeaks.flat())}; vitrine ${total(v.push, v.replicate).map(seconds).join(' / ')}, ${mibRange(vPeaks.flat())})`,
        '',
        '',
        '',
        '',
        '',
        '',
      ],
    ],
  };
}

/** Syncthing's daemons, in the order of its figures. */
const NAMES = ['origin', 'r1', 'r2'];

/**
 * A new version of an artifact both others already hold, with 1% of its bytes changed
 * (edits of 10 KiB at random places, half overwrites, half insertions): bytes fetched by
 * each center beside rsync's literal data for the same change, and the time it took.
 */
export async function replicateDelta(ctx: BenchContext): Promise<BenchTable> {
  const { artifactMiB, runs } = ctx.sizes;
  const base = join(ctx.work, 'delta-base.bin');
  await writeRandomFile(base, artifactMiB * MIB, 'delta-base');
  const first = await publish(ctx.federation, base, { version: 'delta-base' });
  await untilAvailable(ctx.federation, first.id);
  await rsyncToBoth(ctx, base, 'delta.bin');
  const count = Math.max(1, Math.round((artifactMiB * 1000) / 1024));
  const figures = { literal: [] as number[], rsyncMs: [] as number[], fetched: [] as number[] };
  const vitrineMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const pattern: EditPattern = { count, size: 10 * KIB, seed: `delta-${run}` };
    const edited = join(ctx.work, `delta-${run}.bin`);
    await writeEditedFile(base, edited, pattern);
    for (const center of RECEIVERS) {
      await copyFile(base, join(ctx.work, 'rsync', center, 'delta.bin'));
    }
    const copies = await rsyncToBoth(ctx, edited, 'delta.bin');
    figures.literal.push(...copies.map((c) => c.literalBytes));
    figures.rsyncMs.push(Math.max(...copies.map((c) => c.ms)));
    const before = await Promise.all(RECEIVERS.map((c) => ctx.federation.bytesFetched(c)));
    const next = await publish(ctx.federation, edited, {
      version: `delta-${run}`,
      supersedes: first.id,
    });
    vitrineMs.push(await untilAvailable(ctx.federation, next.id));
    const after = await Promise.all(RECEIVERS.map((c) => ctx.federation.bytesFetched(c)));
    figures.fetched.push(...after.map((bytes, i) => bytes - (before[i] ?? 0)));
    await rm(edited);
  }
  const literal = median(figures.literal);
  return {
    title: `new version of a ${artifactMiB} MiB artifact, ${count} edits of 10 KiB (half overwrites, half insertions; median of ${runs})`,
    headers: ['', 'bytes sent to each center', 'vs rsync', 'time'],
    rows: [
      [
        'rsync literal data (baseline)',
        megabytes(literal),
        times(1),
        seconds(median(figures.rsyncMs)),
      ],
      [
        'vitrine chunk bytes fetched',
        megabytes(median(figures.fetched)),
        times(median(figures.fetched) / literal),
        seconds(median(vitrineMs)),
      ],
      ['(bytes the edits wrote)', megabytes(count * 10 * KIB), '', ''],
    ],
  };
}
