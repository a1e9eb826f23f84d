/**
 * Artifact replication beside rsync over SSH: a new artifact published at one center until
 * it is available at both others, against rsync of the same file to two folders; then a
 * new version with scattered edits, bytes fetched against rsync's literal data.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_CENTERS } from '../cli/src/dev-federation.js';
import { type EditPattern, writeEditedFile, writeRandomFile } from './bench-files.js';
import { median } from './measure.js';
import { peakRssMiB, resetPeakRss } from './process-stats.js';
import {
  type BenchContext,
  type BenchTable,
  megabytes,
  ORIGIN,
  publish,
  RECEIVERS,
  seconds,
  times,
  untilAvailable,
} from './replication-bench.js';
import type { RsyncResult } from './ssh-loopback.js';

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

/** New content published at the origin: time until available at both other centers. */
export async function replicateArtifact(ctx: BenchContext): Promise<BenchTable> {
  const { artifactMiB, runs } = ctx.sizes;
  const push: number[] = [];
  const vitrine: number[] = [];
  const rsync: number[] = [];
  let uploadPeak = 0;
  for (let run = 0; run < runs; run++) {
    const file = join(ctx.work, `artifact-${run}.bin`);
    await writeRandomFile(file, artifactMiB * MIB, `replicate-${run}`);
    const copies = await rsyncToBoth(ctx, file, `artifact-${run}.bin`);
    rsync.push(Math.max(...copies.map((c) => c.ms)));
    const published = await publish(ctx.federation, file, { version: `replicate-${run}` });
    push.push(published.pushMs);
    // The peaks printed with this table cover replication alone; the upload's is its own.
    uploadPeak = Math.max(uploadPeak, await peakRssMiB(ctx.federation.center(ORIGIN).pid));
    await Promise.all(DEV_CENTERS.map(({ id }) => resetPeakRss(ctx.federation.center(id).pid)));
    vitrine.push(await untilAvailable(ctx.federation, published.id));
    await rm(file);
    for (const center of RECEIVERS) {
      await rm(join(ctx.work, 'rsync', center, `artifact-${run}.bin`), { force: true });
    }
  }
  const baseline = median(rsync);
  const mbps = (ms: number) => `${((artifactMiB * MIB) / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
  return {
    title: `replicate ${artifactMiB} MiB of new content from europe to asia and us (median of ${runs}; peak RSS while replicating)`,
    headers: ['', 'time', 'rate', 'vs rsync'],
    rows: [
      ['rsync over SSH to two folders (baseline)', seconds(baseline), mbps(baseline), times(1)],
      [
        'vitrine: published → available at both',
        seconds(median(vitrine)),
        mbps(median(vitrine)),
        times(median(vitrine) / baseline),
      ],
      [
        `(upload at europe before it: peak RSS ${uploadPeak.toFixed(0)} MiB)`,
        seconds(median(push)),
        mbps(median(push)),
        '',
      ],
    ],
  };
}

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
