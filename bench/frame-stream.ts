/**
 * One FetchChunks-shaped gRPC stream of sealed 1 MiB frames (16 chunks of 64 KiB each, read
 * into fresh buffers as a pack read does), from a server in a process of its own to a
 * client here that opens every frame: the server's CPU per GB and the full collections on
 * each side, with the frames served through Connect's serializer (the baseline) and as an
 * encoded stream (the pieces written as sealed). `--yield` makes the client wait a turn of
 * the event loop after each frame, as a receiving center busy storing chunks does.
 *
 *   npx tsx bench/frame-stream.ts [--frames N=1024] [--rounds N=3] [--yield]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ConnectRouter } from '@connectrpc/connect';
import { SyncService } from '@vitrine/proto/sync';
import { bytesFieldPieces, createGrpcClient, startServer } from '@vitrine/rpc';
import pino from 'pino';
import { SealedReceiver, SealedSender } from '../libs/channel/src/sealed-stream.js';
import { median } from './measure.js';

const KEY = new Uint8Array(32).fill(7);
const CHUNK = 64 * 1024;
const CHUNKS_PER_FRAME = 16;
const FRAME_FIELD = 2;
const SOURCE = randomBytes(16 * 1024 * 1024);

/** Counts full (major) collections of this process from now on. */
function countFullCollections(): () => number {
  let full = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === 4) full++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => full;
}

/** One frame's plaintext: 16 chunks, each read into a buffer of its own. */
function frameParts(frame: number): Uint8Array[] {
  const at = (frame * CHUNK * CHUNKS_PER_FRAME) % (SOURCE.length - CHUNK * CHUNKS_PER_FRAME);
  return Array.from({ length: CHUNKS_PER_FRAME }, (_, k) =>
    Buffer.from(SOURCE.subarray(at + k * CHUNK, at + (k + 1) * CHUNK)),
  );
}

async function serve(mode: string, frames: number): Promise<void> {
  const fullCollections = countFullCollections();
  const method = SyncService.method.fetchChunks;
  const connectRoutes = (router: ConnectRouter) =>
    router.service(SyncService, {
      async *fetchChunks() {
        const sender = new SealedSender(KEY);
        for (let i = 0; i < frames; i++) yield { frame: sender.seal(frameParts(i)) };
      },
    });
  const encoded = {
    method,
    async *serve() {
      const sender = new SealedSender(KEY);
      for (let i = 0; i < frames; i++) {
        yield bytesFieldPieces(FRAME_FIELD, sender.sealPieces(frameParts(i)));
      }
    },
  };
  const server = await startServer({
    port: 0,
    routes: mode === 'connect' ? connectRoutes : () => {},
    encodedStreams: mode === 'encoded' ? [encoded] : [],
    files: [],
    healthServices: [],
    logger: pino({ level: 'silent' }),
  });
  process.on('message', (m) => {
    if (m === 'figures') process.send?.({ cpu: process.cpuUsage(), full: fullCollections() });
  });
  process.send?.({ url: server.url });
}

interface Figures {
  readonly cpu: NodeJS.CpuUsage;
  readonly full: number;
}

async function measure(mode: string, frames: number, rounds: number, yieldEach: boolean) {
  const child = fork(
    new URL(import.meta.url).pathname,
    ['--serve', mode, '--frames', `${frames}`],
    {
      execArgv: ['--import', 'tsx', '--max-semi-space-size=4'],
    },
  );
  const url = await new Promise<string>((resolve) =>
    child.once('message', (m) => resolve((m as { url: string }).url)),
  );
  const figures = () =>
    new Promise<Figures>((resolve) => {
      child.once('message', (m) => resolve(m as Figures));
      child.send('figures');
    });
  const client = createGrpcClient(SyncService, url);
  const clientFull = countFullCollections();
  const results: { cpuPerGB: number; full: number; clientFull: number; mbps: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    const before = await figures();
    const clientBefore = clientFull();
    const started = performance.now();
    const receiver = new SealedReceiver(KEY);
    let bytes = 0;
    for await (const res of client.fetchChunks({ sessionId: 'bench', frame: new Uint8Array(1) })) {
      bytes += receiver.open(res.frame).plaintext.length;
      if (yieldEach) await new Promise((resolve) => setImmediate(resolve));
    }
    const seconds = (performance.now() - started) / 1000;
    const after = await figures();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cpu = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
    results.push({
      cpuPerGB: cpu / (bytes / 1e9),
      full: after.full - before.full,
      clientFull: clientFull() - clientBefore,
      mbps: bytes / 1e6 / seconds,
    });
  }
  child.kill();
  return {
    cpuPerGB: median(results.map((r) => r.cpuPerGB)),
    full: median(results.map((r) => r.full)),
    clientFull: median(results.map((r) => r.clientFull)),
    mbps: median(results.map((r) => r.mbps)),
  };
}

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    frames: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    yield: { type: 'boolean', default: false },
  },
});
const frames = Number(values.frames);
if (values.serve !== undefined) {
  await serve(values.serve, frames);
} else {
  const rounds = Number(values.rounds);
  const gb = ((frames * CHUNK * CHUNKS_PER_FRAME) / 1e9).toFixed(2);
  console.log(
    `${frames} sealed frames of 1 MiB (${gb} GB) per round, median of ${rounds}; client ${values.yield ? 'yields after each frame' : 'takes frames as they come'}`,
  );
  const baseline = await measure('connect', frames, rounds, values.yield);
  const encoded = await measure('encoded', frames, rounds, values.yield);
  for (const [name, r] of [
    ['Connect serializer (baseline)', baseline],
    ['encoded stream', encoded],
  ] as const) {
    console.log(
      `  ${name.padEnd(30)} server CPU ${r.cpuPerGB.toFixed(2)} s/GB (${(r.cpuPerGB / baseline.cpuPerGB).toFixed(2)}×)  ` +
        `full collections: server ${r.full}, client ${r.clientFull}  ${r.mbps.toFixed(0)} MB/s`,
    );
  }
  process.exit(0);
}
