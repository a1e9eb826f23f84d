/**
 * The least that replicating an artifact to two centers can cost on this machine, beside
 * rsync over SSH measured in the same run:
 *
 *   npx tsx bench/replication-floor.ts [--size MiB=1024] [--runs N=3]
 *
 * "Required work" is what sync must do to every replicated byte, and nothing else. The
 * origin reads the artifact once and seals it for each receiver, in 1 MiB frames of a sealed
 * stream (@vitrine/channel's, with a key of its own per receiver). Each receiver is a process
 * of its own. It takes its frames off a plain TCP socket on loopback and opens them. It hashes
 * every 64 KiB chunk (SHA-256) and appends the chunks to a file. Then it makes the file
 * durable (fdatasync) and hashes the whole content again, read back from the file.
 *
 * There is no HTTP/2, gRPC, protobuf, database, chunk index or record of anything: just
 * three processes on two cores doing that. Any design that keeps the guarantees (a channel
 * end-to-end encrypted per receiver, every chunk and the whole content verified, stored
 * durably) pays at least this.
 *
 * Printed for each: wall time until both copies are done, and the CPU time of the whole
 * machine over that span (every process, the kernel included, from /proc/stat). Run it on
 * an otherwise idle machine, since other work would be counted too.
 */
import { fork } from 'node:child_process';
import { createHash, hash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '@vitrine/testing';
import { formatTable } from '../cli/src/text-table.js';
import { SealedReceiver, SealedSender } from '../libs/channel/src/sealed-stream.js';
import { writeRandomFile } from './bench-files.js';
import { median } from './measure.js';
import { seconds, times } from './replication-bench.js';
import { LoopbackSsh } from './ssh-loopback.js';

const MIB = 1024 * 1024;
/** Bytes of one sealed frame's plaintext, and of one chunk within it (the mean chunk size). */
const FRAME_BYTES = MIB;
const CHUNK_BYTES = 64 * 1024;
/** Each frame on the socket: its length (4 bytes), then the sealed frame. */
const LENGTH_BYTES = 4;

/** What the orchestrator tells a receiver, and what a receiver reports back. */
type ToReceiver = { readonly key: string; readonly file: string; readonly digest: string };
type FromReceiver = { readonly port: number } | { readonly done: true; readonly ok: boolean };

/** The sending end of one receiver's stream: seals each frame and writes it to `socket`. */
class FrameWriter {
  readonly #sender: SealedSender;

  constructor(
    private readonly socket: Socket,
    key: Uint8Array,
  ) {
    this.#sender = new SealedSender(key);
  }

  /** Seals `plaintext` as the next frame and writes it; resolves once the socket takes more. */
  async write(plaintext: Buffer, final: boolean): Promise<void> {
    const pieces = this.#sender.sealPieces(plaintext, { final });
    const length = Buffer.alloc(LENGTH_BYTES);
    length.writeUInt32BE(pieces.reduce((sum, piece) => sum + piece.length, 0));
    this.socket.cork();
    let more = this.socket.write(length);
    for (const piece of pieces) more = this.socket.write(piece);
    this.socket.uncork();
    if (!more) await new Promise((resolve) => this.socket.once('drain', resolve));
  }
}

/**
 * The origin's part: reads `file` a frame at a time and seals each frame for every
 * receiver, in step (a frame goes to both before the next is read).
 */
async function sendFile(file: string, writers: readonly FrameWriter[]): Promise<void> {
  const handle = await open(file);
  try {
    const { size } = await handle.stat();
    for (let at = 0; at < size; at += FRAME_BYTES) {
      const length = Math.min(FRAME_BYTES, size - at);
      const frame = Buffer.allocUnsafeSlow(length);
      await handle.read(frame, 0, length, at);
      const final = at + length >= size;
      await Promise.all(writers.map((w) => w.write(frame, final)));
    }
  } finally {
    await handle.close();
  }
}

/**
 * Yields the sealed frames arriving on `socket`, each joined into one buffer, as a gRPC
 * reader joins a message.
 */
async function* framesFrom(socket: Socket): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let held = 0;
  let want = -1;
  for await (const piece of socket as AsyncIterable<Buffer>) {
    pending.push(piece);
    held += piece.length;
    for (;;) {
      if (want < 0 && held >= LENGTH_BYTES) {
        const joined = Buffer.concat(pending, held);
        want = joined.readUInt32BE(0);
        pending = [joined.subarray(LENGTH_BYTES)];
        held -= LENGTH_BYTES;
      }
      if (want < 0 || held < want) break;
      const joined = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, held);
      yield joined.subarray(0, want);
      pending = held > want ? [joined.subarray(want)] : [];
      held -= want;
      want = -1;
    }
  }
}

/**
 * A receiver's part: opens every frame from `socket`, hashes each chunk, appends the
 * chunks to `file`, makes it durable and hashes the whole content read back from it;
 * true when that matches `digest`. A frame that does not open, or a stream that ends
 * without its final frame, throws.
 */
async function receiveFile(socket: Socket, key: Uint8Array, file: string, digest: string) {
  const receiver = new SealedReceiver(key);
  const handle = await open(file, 'w');
  try {
    for await (const frame of framesFrom(socket)) {
      const { plaintext, final } = receiver.open(frame);
      for (let at = 0; at < plaintext.length; at += CHUNK_BYTES) {
        hash('sha256', plaintext.subarray(at, at + CHUNK_BYTES), 'buffer');
      }
      await handle.write(plaintext);
      if (final) break;
    }
    receiver.assertEnded();
    await handle.datasync();
  } finally {
    await handle.close();
  }
  const whole = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 512 * 1024 })) {
    whole.update(piece as Buffer);
  }
  return whole.digest('hex') === digest;
}

/** Runs as a forked receiver: listens, takes one stream, reports whether its copy verified. */
async function receiverProcess(): Promise<void> {
  const send = (message: FromReceiver) => process.send?.(message);
  const task = await new Promise<ToReceiver>((resolve) => process.once('message', resolve));
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  send({ port: typeof address === 'object' && address ? address.port : 0 });
  const socket = await accepted;
  server.close();
  const ok = await receiveFile(socket, Buffer.from(task.key, 'base64'), task.file, task.digest);
  socket.destroy();
  send({ done: true, ok });
  process.disconnect();
}

/** A receiver process: where it listens, and a promise of whether its copy verified. */
async function startReceiver(task: ToReceiver) {
  const child = fork(fileURLToPath(import.meta.url), ['--receive'], {
    execArgv: process.execArgv,
  });
  const messages: FromReceiver[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m: FromReceiver) => {
    messages.push(m);
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (): Promise<FromReceiver> => {
    for (;;) {
      const message = messages.shift();
      if (message) return message;
      if (child.exitCode !== null) throw new Error(`receiver exited (${child.exitCode})`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        child.once('exit', () => resolve());
      });
    }
  };
  child.send(task);
  const ready = await next();
  if (!('port' in ready)) throw new Error('receiver did not say where it listens');
  const done = next().then((m) => 'done' in m && m.ok);
  return { port: ready.port, done };
}

/** Busy CPU seconds of the whole machine so far (every core; user, system, interrupts). */
async function machineCpuSeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal …, in USER_HZ (100 a second)
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (fields[i] ?? 0), 0);
  return busy / 100;
}

/** Wall and machine CPU time of `body`. */
async function measured(body: () => Promise<void>): Promise<{ ms: number; cpu: number }> {
  const cpu = await machineCpuSeconds();
  const start = performance.now();
  await body();
  return { ms: performance.now() - start, cpu: (await machineCpuSeconds()) - cpu };
}

/** The required work for `file` to two receiving processes; fails unless both copies verify. */
async function requiredWork(file: string, digest: string, folder: string): Promise<void> {
  const receivers = await Promise.all(
    ['asia', 'us'].map(async (name) => {
      const key = randomBytes(32);
      const task = { key: key.toString('base64'), file: join(folder, name), digest };
      return { key, ...(await startReceiver(task)) };
    }),
  );
  const sockets = await Promise.all(
    receivers.map(
      ({ port }) =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  await sendFile(
    file,
    sockets.map((socket, i) => new FrameWriter(socket, receivers[i]?.key as Buffer)),
  );
  for (const socket of sockets) socket.end();
  const verified = await Promise.all(receivers.map((r) => r.done));
  if (!verified.every(Boolean)) throw new Error('a receiver did not verify its copy');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1024' },
      runs: { type: 'string', default: '3' },
    },
  });
  const size = Number(values.size) * MIB;
  const runs = Number(values.runs);
  const work = await mkdtemp(join(tmpdir(), 'vitrine-floor-'));
  const ssh = await LoopbackSsh.start(join(work, 'ssh'), await freePort());
  try {
    const file = join(work, 'artifact.bin');
    await writeRandomFile(file, size, 'floor');
    const whole = createHash('sha256');
    for await (const piece of createReadStream(file)) whole.update(piece as Buffer);
    const digest = whole.digest('hex');
    const rsync: { ms: number; cpu: number }[] = [];
    const floor: { ms: number; cpu: number }[] = [];
    for (let run = 0; run < runs; run++) {
      const copies = join(work, `copies-${run}`);
      for (const name of ['rsync-asia', 'rsync-us', 'floor']) {
        await mkdir(join(copies, name), { recursive: true });
      }
      rsync.push(
        await measured(async () => {
          await Promise.all(
            ['rsync-asia', 'rsync-us'].map((name) =>
              ssh.rsync(file, join(copies, name, 'artifact.bin')),
            ),
          );
        }),
      );
      floor.push(await measured(() => requiredWork(file, digest, join(copies, 'floor'))));
      await rm(copies, { recursive: true, force: true });
    }
    const base = median(rsync.map((r) => r.ms));
    const row = (name: string, results: { ms: number; cpu: number }[]) => {
      const ms = median(results.map((r) => r.ms));
      const cpu = median(results.map((r) => r.cpu));
      return [name, seconds(ms), `${cpu.toFixed(1)} s`, times(ms / base)];
    };
    console.log(
      `replication floor: ${values.size} MiB to two receivers (median of ${runs}; CPU of the whole machine)`,
    );
    const table = formatTable(
      ['', 'time', 'cpu', 'vs rsync'],
      [
        row('rsync over SSH to two folders (baseline)', rsync),
        row('required work alone: seal, open, hash twice, write', floor),
      ],
    );
    for (const line of table) console.log(`  ${line}`);
  } finally {
    await ssh.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--receive')) await receiverProcess();
else await main();
