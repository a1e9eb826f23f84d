import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChunkStore, chunkStream } from '@vitrine/chunks';
import { sha256 } from '@vitrine/crypto';
import { freePortBlock, type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceProcess } from '../cli/src/service-process.js';
import { DEV_PORT_SPAN, startDev, vitrineJson } from './cli-process.js';

const MIB = 1024 * 1024;
/** Large enough that the transfer takes a while: 200 MiB and then some. */
const ARTIFACT_MIB = 208;

/** Writes `mib` MiB of random bytes to `path`, streamed; resolves with their SHA-256 (hex). */
async function writeRandomFile(path: string, mib: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let i = 0; i < mib; i++) {
    const block = randomBytes(MIB);
    hash.update(block);
    if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error) => (err ? reject(err) : resolve())),
  );
  return hash.digest('hex');
}

/** SHA-256 (hex) of a file, read as a stream. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const block of createReadStream(path)) hash.update(block as Buffer);
  return hash.digest('hex');
}

/** How many of `file`'s chunks a center's store holds (looked at while the center is down). */
async function storedChunkCount(dataDir: string, file: string): Promise<number> {
  const store = await ChunkStore.open(join(dataDir, 'chunks'));
  try {
    let held = 0;
    for await (const chunk of chunkStream(createReadStream(file))) {
      if (await store.has(sha256(chunk))) held++;
    }
    return held;
  } finally {
    await store.close();
  }
}

/** What `vitrine artifact show --json` reports of an artifact. */
interface Shown {
  state: string;
  size: number;
  bytesHeld: number;
  chunkCount: number;
}

describe('a center killed (SIGKILL) in the middle of a chunk transfer', () => {
  let home: TempDir;
  const running = new Map<string, ServiceProcess>();
  const at = (center: string) => ['--data', home.path, '--center', center];

  /** Runs one service of the dev federation as its own `vitrine serve` process. */
  async function start(name: string, kind: 'access' | 'center'): Promise<ServiceProcess> {
    const service = await ServiceProcess.start(
      name,
      kind,
      join(home.path, 'config', `${name}.json`),
      join(home.path, 'logs', `${name}.log`),
      { ...process.env, VITRINE_LOG_LEVEL: 'warn' },
    );
    running.set(name, service);
    return service;
  }

  beforeAll(async () => {
    home = await tempDir('vitrine-kill-');
    // `vitrine dev` writes every key, config and the operator profile; then each service
    // runs on its own, so one center can be killed without the others being stopped.
    const dev = await startDev(home.path, await freePortBlock(DEV_PORT_SPAN));
    expect(await dev.stop()).toBe(0);
    await start('access', 'access');
    // asia stays down: us fetches from europe, and finds asia unreachable every round.
    await Promise.all([start('europe', 'center'), start('us', 'center')]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([...running.values()].map((service) => service.stop()));
    await home?.cleanup();
  });

  it('completes after restart, re-fetching no chunk it had stored, never available early', async () => {
    const file = join(home.path, 'router-os.img');
    const original = await writeRandomFile(file, ARTIFACT_MIB);
    const size = ARTIFACT_MIB * MIB;
    const metadata = ['--kind', 'update', '--product', 'router-os', '--version', '9.0'];
    const pushed = await vitrineJson<{ artifact: { id: string } }>([
      'artifact',
      'push',
      file,
      ...at('europe'),
      ...metadata,
      '--residency',
      'EU,US',
    ]);
    const id = pushed.artifact.id;

    // Everything `artifact show` reports at us while the artifact replicates there.
    const seen: Shown[] = [];
    const watchUs = async (until: (shown: Shown) => boolean): Promise<Shown> => {
      for (;;) {
        const shown = await vitrineJson<{ artifact: Shown }>(['artifact', 'show', id, ...at('us')])
          .then((r) => r.artifact)
          .catch(() => undefined);
        if (shown) {
          seen.push(shown);
          if (until(shown)) return shown;
        }
        // Each look is a CLI process: not so often that it slows the transfer it watches.
        await sleep(2000);
      }
    };

    // Kill us as soon as it shows bytes held: the transfer is under way, far from its end.
    const killedAt = await watchUs((shown) => shown.bytesHeld > 0);
    const us = running.get('us');
    process.kill(us?.pid ?? 0, 'SIGKILL');
    expect((await us?.exited)?.signal).toBe('SIGKILL');
    expect(killedAt.state).toBe('replicating');
    const stored = await storedChunkCount(join(home.path, 'centers', 'us'), file);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(killedAt.chunkCount);

    await start('us', 'center');
    const done = await watchUs((shown) => shown.state === 'available');
    expect(done.bytesHeld).toBe(size);
    // Never shown available while a byte was missing; replicating, with progress, before.
    for (const shown of seen) {
      if (shown.state === 'available') expect(shown.bytesHeld).toBe(size);
      else expect(shown.state).toBe('replicating');
    }
    expect(seen.some((s) => s.state === 'replicating' && s.bytesHeld > 0)).toBe(true);

    // After the restart us fetched only chunks that were not stored when it was killed.
    const status = await vitrineJson<{ peers: { id: string; chunksFetched: number }[] }>([
      'sync',
      'status',
      ...at('us'),
    ]);
    const fetchedAfterRestart = status.peers.reduce((sum, p) => sum + p.chunksFetched, 0);
    expect(fetchedAfterRestart).toBeGreaterThan(0);
    expect(fetchedAfterRestart).toBeLessThanOrEqual(done.chunkCount - stored);

    const pulled = join(home.path, 'pulled.img');
    await vitrineJson(['artifact', 'pull', id, ...at('us'), '-o', pulled]);
    expect(await hashFile(pulled)).toBe(original);
  }, 300_000);
});
