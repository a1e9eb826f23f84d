import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, freePortBlock, type TempDir, tempDir, testBackends } from '@vitrine/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceProcess } from '../cli/src/service-process.js';
import { DEV_PORT_SPAN, startDev, vitrine, vitrineJson } from './cli-process.js';

/** What `vitrine sync status --json` reports that this test compares. */
interface Status {
  versionVector: Record<string, number>;
  convergenceDigest: string;
  stateDigest: string;
  peers: { id: string; connected: boolean }[];
}

/** The time a standby may take to serve the center's sync address after the active dies. */
const TAKEOVER_LIMIT_MS = 10_000;
/** Ample time for a few events to replicate on a loaded machine. */
const CONVERGENCE_LIMIT_MS = 90_000;

const MIB = 1024 * 1024;

/** Writes `mib` MiB of random bytes to `path`, streamed. */
async function writeRandomFile(path: string, mib: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < mib; i++) {
    if (!out.write(randomBytes(MIB))) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error) => (err ? reject(err) : resolve())),
  );
}

/** Bytes of every file below `dir`. */
async function bytesBelow(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      total += await stat(join(entry.parentPath, entry.name)).then(
        (s) => s.size,
        () => 0,
      );
    }
  }
  return total;
}

/** Whether two version vectors name the same origins at the same positions. */
function sameVector(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((origin) => a[origin] === b[origin]);
}

const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined)(
  'two processes of one center on PostgreSQL: one active sync, a standby that takes over',
  () => {
    let home: TempDir;
    let database: Awaited<ReturnType<NonNullable<typeof postgres>['open']>>;
    const running = new Map<string, ServiceProcess>();
    const at = (center: string) => ['--data', home.path, '--center', center];

    async function start(name: string, kind: 'access' | 'center'): Promise<ServiceProcess> {
      const service = await ServiceProcess.start(
        name,
        kind,
        join(home.path, 'config', `${name}.json`),
        join(home.path, 'logs', `${name}.log`),
        { ...process.env, VITRINE_LOG_LEVEL: 'info' },
      );
      running.set(name, service);
      return service;
    }

    const status = (center: string) => vitrineJson<Status>(['sync', 'status', ...at(center)]);

    /** Waits until `center` holds every event europe holds, and returns both statuses. */
    async function converged(center: string): Promise<{ here: Status; europe: Status }> {
      const deadline = Date.now() + CONVERGENCE_LIMIT_MS;
      for (;;) {
        const [here, europe] = await Promise.all([status(center), status('europe')]);
        if (Date.now() > deadline) {
          throw new Error(
            `${center} and europe did not converge: ${JSON.stringify({ here, europe }, null, 1)}`,
          );
        }
        if (
          here.convergenceDigest === europe.convergenceDigest &&
          sameVector(here.versionVector, europe.versionVector)
        ) {
          return { here, europe };
        }
        await sleep(500);
      }
    }

    /** Per origin: rows in us's event table, distinct seqs, and the highest seq. */
    async function usEventRows(): Promise<
      Map<string, { rows: number; seqs: number; max: number }>
    > {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const result = await client.query<{
          origin: string;
          rows: string;
          seqs: string;
          max: string;
        }>(
          'select origin, count(*) as rows, count(distinct seq) as seqs, max(seq) as max from events group by origin',
        );
        return new Map(
          result.rows.map((r) => [
            r.origin,
            { rows: Number(r.rows), seqs: Number(r.seqs), max: Number(r.max) },
          ]),
        );
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      home = await tempDir('vitrine-lease-');
      database = await (postgres as NonNullable<typeof postgres>).open();
      const dev = await startDev(home.path, await freePortBlock(DEV_PORT_SPAN));
      expect(await dev.stop()).toBe(0);
      // us keeps its state in PostgreSQL, and runs as two processes: us-a (the address
      // federation.json names) and us-b, the same center on another registry port.
      const usFile = join(home.path, 'config', 'us.json');
      const us = JSON.parse(await readFile(usFile, 'utf8'));
      us.registry.databaseUrl = database.url;
      await writeFile(join(home.path, 'config', 'us-a.json'), JSON.stringify(us, null, 2));
      us.registry.listen.port = await freePort();
      await writeFile(join(home.path, 'config', 'us-b.json'), JSON.stringify(us, null, 2));
      us.registry.listen.port = 0;
      us.sync.listen.port = 0;
      await writeFile(join(home.path, 'config', 'us-any-port.json'), JSON.stringify(us, null, 2));
      await start('access', 'access');
      await start('europe', 'center');
    }, 300_000);

    afterAll(async () => {
      await Promise.all([...running.values()].map((service) => service.stop()));
      if (process.env.VITRINE_KEEP_TEST_HOME === undefined) await home?.cleanup();
      await database?.cleanup();
    });

    it('runs sync in one process only; the standby takes over within 10 s of a SIGKILL, losing and duplicating nothing; the upload cut off leaves no artifact', async () => {
      const usA = await start('us-a', 'center');
      expect(usA.ready.syncRole).toBe('active');
      const usB = await start('us-b', 'center');
      expect(usB.ready.syncRole).toBe('standby');
      expect(usB.ready.sync).toBe(usA.ready.sync);

      // Events from europe (an artifact held in the EU only, and findings about it) reach us.
      const file = join(home.path, 'notes.txt');
      await writeFile(file, randomBytes(4096));
      const pushed = await vitrineJson<{ artifact: { id: string } }>([
        'artifact',
        'push',
        file,
        ...at('europe'),
        ...['--kind', 'source', '--product', 'router-os', '--version', '1.0', '--residency', 'EU'],
      ]);
      const finding = async (title: string) =>
        vitrineJson([
          'finding',
          'create',
          ...at('europe'),
          '--artifact',
          pushed.artifact.id,
          '--title',
          title,
          '--severity',
          'low',
        ]);
      for (let i = 0; i < 3; i++) await finding(`before takeover ${i}`);
      const before = await converged('us');

      // The active process dies without a word, in the middle of an upload to it; the
      // standby serves the same sync address.
      const big = join(home.path, 'cut-off.img');
      await writeRandomFile(big, 128);
      const chunks = join(home.path, 'centers', 'us', 'chunks');
      const chunkBytes = await bytesBelow(chunks);
      const upload = vitrine([
        'artifact',
        'push',
        big,
        ...at('us'),
        ...['--endpoint', usA.ready.registry ?? '', '--kind', 'update', '--product', 'cut-off'],
        ...['--version', '1.0', '--residency', 'US', '--json'],
      ]);
      while ((await bytesBelow(chunks)) === chunkBytes) await sleep(100);
      process.kill(usA.pid ?? 0, 'SIGKILL');
      expect((await usA.exited).signal).toBe('SIGKILL');
      const killedAt = Date.now();
      let after: Status | undefined;
      while (after === undefined) {
        after = await status('us').catch(() => undefined);
        if (after === undefined) await sleep(200);
      }
      const takeoverMs = Date.now() - killedAt;
      console.info(`us-b served the sync address ${takeoverMs} ms after us-a was killed`);
      expect(takeoverMs).toBeLessThan(TAKEOVER_LIMIT_MS);
      const log = await readFile(join(home.path, 'logs', 'us-b.log'), 'utf8');
      expect(log).toContain('sync active: holds the lease');
      // Same log, same state, read by the new active process.
      expect(after.versionVector).toEqual(before.here.versionVector);
      expect(after.convergenceDigest).toBe(before.here.convergenceDigest);
      expect(after.stateDigest).toBe(before.here.stateDigest);

      // The upload was cut off, and nothing of it is shown as an artifact.
      expect((await upload).code).not.toBe(0);
      const listed = await vitrineJson<{ artifacts: { product: string }[] }>([
        'artifact',
        'ls',
        ...at('us'),
        '--endpoint',
        usB.ready.registry ?? '',
      ]);
      expect(listed.artifacts.map((a) => a.product)).not.toContain('cut-off');

      // Replication continues in both directions: europe → us, and us (through us-b) → europe.
      for (let i = 0; i < 3; i++) await finding(`after takeover ${i}`);
      const usEndpoint = [...at('us'), '--endpoint', usB.ready.registry ?? ''];
      const usFile = join(home.path, 'us-notes.txt');
      await writeFile(usFile, randomBytes(4096));
      await vitrineJson([
        'artifact',
        'push',
        usFile,
        ...usEndpoint,
        ...['--kind', 'source', '--product', 'router-os', '--version', '1.1', '--residency', 'US'],
      ]);
      const { here, europe } = await converged('us');
      expect(here.versionVector.us).toBeGreaterThan(before.here.versionVector.us ?? 0);
      expect(here.versionVector.europe).toBeGreaterThan(before.here.versionVector.europe ?? 0);
      expect(europe.versionVector).toEqual(here.versionVector);

      // No event lost or duplicated: per origin, one row per seq, 1…max without gaps,
      // exactly as many as the version vector says.
      const rows = await usEventRows();
      for (const [origin, seq] of Object.entries(here.versionVector)) {
        expect(rows.get(origin)).toEqual({ rows: seq, seqs: seq, max: seq });
      }
      expect([...rows.keys()].sort()).toEqual(Object.keys(here.versionVector).sort());
    }, 300_000);

    it('refuses, by setting, a sync address without a fixed port, which a standby could not take over', async () => {
      const result = await vitrine([
        'serve',
        'center',
        '--config',
        join(home.path, 'config', 'us-any-port.json'),
        '--json',
      ]);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'CONFIG' });
      expect(JSON.parse(result.stdout).error.message).toContain('sync.listen.port');
    }, 120_000);
  },
);
