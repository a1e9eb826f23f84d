/**
 * Throughput of content-defined chunking and of the chunk store, against raw SHA-256 over
 * the same bytes measured in the same run:
 *
 *   npx tsx bench/chunker.ts [MiB] [storeMiB]
 *
 * The input is a random file of `MiB` MiB (default 256) written to a temp folder and streamed
 * back in 1 MiB reads into one reused buffer (never held whole in memory; after the first
 * pass it is in the page cache, so those figures are CPU-bound). The fsync cases are bound by
 * disk latency, not bytes, so they run over the first `storeMiB` MiB (default min(MiB, 32))
 * and are best read against the raw floors (a file per 64 KiB with its fdatasync; appends to
 * one file with one fdatasync); "file store" rows write one file per chunk into a store whose
 * directories exist (one in use), "packs store" rows append to a new store's pack.
 * Each case runs 3 times; the medians are printed as MB/s by wall clock and as MB per
 * CPU-second (steadier on a busy machine), each with its ratio to raw SHA-256.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkStore, chunkStream } from '@vitrine/chunks';

const MiB = 1024 * 1024;
const RUNS = 3;

/** What one run processed: bytes, chunks when chunking, and its time if it kept its own. */
interface RunResult {
  readonly bytes: number;
  readonly chunks: number;
  readonly seconds?: number;
}

/** A named case: runs once over the first `limit` bytes of the file at `path`. */
interface BenchCase {
  readonly name: string;
  readonly fsync?: boolean;
  readonly run: (path: string, limit: number) => Promise<RunResult>;
}

/** Writes `mib` MiB of random bytes to `path`, 1 MiB at a time. */
async function writeRandomFile(path: string, mib: number): Promise<void> {
  const file = await open(path, 'w');
  const block = new Uint8Array(MiB);
  try {
    for (let i = 0; i < mib; i++) await file.write(randomFillSync(block));
  } finally {
    await file.close();
  }
}

/**
 * The first `limit` bytes of the file as 1 MiB pieces, all in one reused buffer: a piece is
 * valid until the next is requested (the chunker copies what it keeps).
 */
async function* readPieces(path: string, limit: number): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  const buf = new Uint8Array(MiB);
  try {
    for (let total = 0; total < limit; ) {
      const { bytesRead } = await file.read(buf, 0, Math.min(MiB, limit - total), null);
      if (bytesRead === 0) return;
      total += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

async function readOnly(path: string, limit: number): Promise<RunResult> {
  let bytes = 0;
  for await (const piece of readPieces(path, limit)) bytes += piece.length;
  return { bytes, chunks: 0 };
}

async function rawSha256(path: string, limit: number): Promise<RunResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const piece of readPieces(path, limit)) {
    hash.update(piece);
    bytes += piece.length;
  }
  hash.digest();
  return { bytes, chunks: 0 };
}

/** Chunks the file, handing each chunk to `each` (awaited only when it returns a promise). */
async function chunked(
  path: string,
  limit: number,
  each: (chunk: Uint8Array) => void | Promise<void>,
): Promise<RunResult> {
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of chunkStream(readPieces(path, limit))) {
    const pending = each(chunk);
    if (pending !== undefined) await pending;
    bytes += chunk.length;
    chunks++;
  }
  return { bytes, chunks };
}

/** How a store case writes: layout, puts in flight, durability, existing directories. */
interface StoreCase {
  readonly layout: 'packs' | 'files';
  readonly inFlight: number;
  readonly durability: 'per-put' | 'deferred';
  /** Create the chunks' directories first (untimed): a file store in use, not a new one. */
  readonly warm: boolean;
}

/** Pre-creates the `sha256/ab/cd` directories the file's chunks will go to. */
async function createChunkDirs(dir: string, path: string, limit: number): Promise<void> {
  await chunked(path, limit, async (chunk) => {
    const hex = createHash('sha256').update(chunk).digest('hex');
    await mkdir(join(dir, 'sha256', hex.slice(0, 2), hex.slice(2, 4)), { recursive: true });
  });
}

/** Chunks the file into a fresh store, timing chunking, puts and the final sync. */
async function storeWrites(path: string, limit: number, how: StoreCase): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vitrine-bench-store-'));
  try {
    if (how.warm) await createChunkDirs(dir, path, limit);
    const start = process.hrtime.bigint();
    const store = await ChunkStore.open(dir, { layout: how.layout, durability: how.durability });
    const pending = new Set<Promise<unknown>>();
    const result = await chunked(path, limit, async (chunk) => {
      if (pending.size >= how.inFlight) await Promise.race(pending);
      const put = store.put(chunk).finally(() => pending.delete(put));
      pending.add(put);
    });
    await Promise.all(pending);
    await store.sync();
    await store.close();
    return { ...result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The floor under any durable store: each 64 KiB of the input written to a new file,
 * fdatasynced and renamed, one at a time, with no hashing and no directory fan-out.
 */
async function rawDurableWrites(path: string, limit: number): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vitrine-bench-raw-'));
  let bytes = 0;
  let chunks = 0;
  try {
    for await (const piece of readPieces(path, limit)) {
      for (let off = 0; off < piece.length; off += 64 * 1024, chunks++) {
        const temp = join(dir, `t${chunks}`);
        const file = await open(temp, 'wx');
        await file.writeFile(piece.subarray(off, off + 64 * 1024));
        await file.datasync();
        await file.close();
        await rename(temp, join(dir, `c${chunks}`));
      }
      bytes += piece.length;
    }
    return { bytes, chunks };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The floor under a pack store: each 64 KiB of the input appended to one open file, with one
 * fdatasync at the end.
 */
async function rawAppends(path: string, limit: number): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vitrine-bench-raw-'));
  let bytes = 0;
  let chunks = 0;
  try {
    const file = await open(join(dir, 'pack'), 'wx');
    for await (const piece of readPieces(path, limit)) {
      for (let off = 0; off < piece.length; off += 64 * 1024, chunks++) {
        await file.write(piece.subarray(off, off + 64 * 1024));
      }
      bytes += piece.length;
    }
    await file.datasync();
    await file.close();
    return { bytes, chunks };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A store case named after how it writes. */
function storeCase(how: StoreCase): BenchCase {
  const store = how.layout === 'files' && how.warm ? 'file store' : `new ${how.layout} store`;
  const name = `${store} put, ${how.durability}, ${how.inFlight} in flight`;
  return { name, fsync: true, run: (p, n) => storeWrites(p, n, how) };
}

const CASES: readonly BenchCase[] = [
  { name: 'read file only', run: readOnly },
  { name: 'raw SHA-256 (node:crypto)', run: rawSha256 },
  { name: 'FastCDC boundaries only', run: (p, n) => chunked(p, n, () => {}) },
  {
    name: 'FastCDC + SHA-256 per chunk',
    run: (p, n) => chunked(p, n, (c) => void createHash('sha256').update(c).digest()),
  },
  { name: 'floor: write+fdatasync+rename 64 KiB', fsync: true, run: rawDurableWrites },
  { name: 'floor: append 64 KiB pieces, one fdatasync', fsync: true, run: rawAppends },
  storeCase({ layout: 'files', inFlight: 4, durability: 'per-put', warm: true }),
  storeCase({ layout: 'files', inFlight: 8, durability: 'deferred', warm: true }),
  storeCase({ layout: 'packs', inFlight: 4, durability: 'per-put', warm: false }),
  storeCase({ layout: 'packs', inFlight: 8, durability: 'deferred', warm: false }),
];

/** Median wall-clock seconds of a run, and median CPU seconds unless the case timed itself. */
interface Timing {
  readonly wall: number;
  readonly cpu: number | undefined;
  readonly result: RunResult;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Runs a case RUNS times. */
async function measure(c: BenchCase, path: string, limit: number): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  let result: RunResult = { bytes: 0, chunks: 0 };
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    result = await c.run(path, limit);
    const used = process.cpuUsage(cpuStart);
    wall.push(result.seconds ?? Number(process.hrtime.bigint() - start) / 1e9);
    cpu.push((used.user + used.system) / 1e6);
  }
  return {
    wall: median(wall),
    cpu: result.seconds === undefined ? median(cpu) : undefined,
    result,
  };
}

/** One table row: throughput by wall clock and per CPU-second, each with its ratio. */
function row(name: string, t: Timing, base: { wall: number; cpu: number }): string {
  const { bytes, chunks } = t.result;
  const wall = bytes / 1e6 / t.wall;
  const cpu = t.cpu === undefined ? Number.NaN : bytes / 1e6 / t.cpu;
  const ratio = (v: number, b: number) => (Number.isNaN(v / b) ? '' : `${(v / b).toFixed(2)}x`);
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(0));
  const extra =
    chunks > 0
      ? `${chunks} chunks, mean ${Math.round(bytes / chunks)} B, ${Math.round(chunks / t.wall)}/s`
      : '';
  return [
    name.padEnd(46),
    fmt(wall).padStart(6),
    ratio(wall, base.wall).padStart(6),
    fmt(cpu).padStart(7),
    ratio(cpu, base.cpu).padStart(6),
    ` ${extra}`,
  ].join(' ');
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 256);
  const storeMib = Number(process.argv[3] ?? Math.min(mib, 32));
  if (![mib, storeMib].every((n) => Number.isInteger(n) && n >= 1) || storeMib > mib) {
    throw new Error('usage: bench/chunker.ts [MiB ≥ 1] [storeMiB ≤ MiB]');
  }
  const work = await mkdtemp(join(tmpdir(), 'vitrine-bench-chunker-'));
  try {
    const path = join(work, 'input.bin');
    await writeRandomFile(path, mib);
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    console.log(`node ${process.version}, ${cpu}, ${mib} MiB (fsync cases: ${storeMib} MiB)`);
    console.log(`median of ${RUNS} runs; MB = 10^6 bytes; ratios against raw SHA-256`);
    console.log(`${'case'.padEnd(46)}  MB/s (wall)   MB/CPU-s`);
    const base = { wall: Number.NaN, cpu: Number.NaN };
    for (const c of CASES) {
      const limit = (c.fsync === true ? storeMib : mib) * MiB;
      const t = await measure(c, path, limit);
      if (c.run === rawSha256) {
        base.wall = t.result.bytes / 1e6 / t.wall;
        base.cpu = t.result.bytes / 1e6 / (t.cpu ?? Number.NaN);
      }
      console.log(row(c.name, t, base));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
