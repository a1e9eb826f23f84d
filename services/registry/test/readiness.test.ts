import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@vitrine/proto/health';
import { LogService } from '@vitrine/proto/log';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient, createLogger } from '@vitrine/rpc';
import { DEFAULT_TEST_POSTGRES_URL, freePort, tempDir, testBackends } from '@vitrine/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startRegistry } from '../src/index.js';
import { startTestRegistry } from './harness.js';

const READY = RegistryService.typeName;
const quiet = createLogger('readiness-test', { VITRINE_LOG_LEVEL: 'silent' });

/** The health status `service` reports at `url`, asked over gRPC. */
async function statusOf(url: string, service: string): Promise<Status> {
  return (await createGrpcClient(Health, url).check({ service })).status;
}

/** Waits (up to 30 s) until `service` at `url` reports `want`. */
async function becomes(url: string, service: string, want: Status): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = await statusOf(url, service);
  while (last !== want) {
    if (Date.now() > deadline) {
      throw new Error(`${service} still ${Status[last]}, expected ${Status[want]}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    last = await statusOf(url, service);
  }
}

const backends = testBackends();
const [pglite] = backends;
const postgres = backends.find((b) => b.name === 'postgres');

describe('registry readiness (grpc.health.v1)', () => {
  it('is NOT_SERVING while its chunk folder cannot be written, and SERVING again once it can', async () => {
    if (!pglite) throw new Error('no PGlite backend');
    const t = await startTestRegistry(pglite, { health: { checkIntervalMs: 100 } });
    try {
      const url = t.registry.url;
      await becomes(url, READY, Status.SERVING);
      expect(await statusOf(url, LogService.typeName)).toBe(Status.SERVING);
      // The folder every chunk is first written to is replaced by a file: writes fail
      // (ENOENT, then ENOTDIR) whoever the process runs as, as with a volume gone.
      const tmp = join(t.dataDir, 'chunks', 'tmp');
      await rename(tmp, `${tmp}.away`);
      await writeFile(tmp, 'not a folder');
      await becomes(url, READY, Status.NOT_SERVING);
      expect(await statusOf(url, LogService.typeName)).toBe(Status.NOT_SERVING);
      expect(t.registry.readiness?.failures.get('chunk store')).toMatch(
        /^chunk store .*chunks is not writable \((ENOTDIR|ENOENT)\)$/,
      );
      // Liveness (the server as a whole) is not readiness: the process is still alive.
      expect(await statusOf(url, '')).toBe(Status.SERVING);
      await rm(tmp);
      await rename(`${tmp}.away`, tmp);
      await becomes(url, READY, Status.SERVING);
      expect(t.registry.readiness?.failures.size).toBe(0);
    } finally {
      await t.cleanup();
    }
  });

  it.skipIf(postgres === undefined)(
    'is NOT_SERVING while PostgreSQL refuses its connections, and SERVING once they are allowed again',
    async () => {
      if (!postgres) return;
      const database = await postgres.open();
      const name = new URL(database.url ?? '').pathname.slice(1);
      const admin = new pg.Client({
        connectionString: process.env.VITRINE_TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL,
      });
      admin.on('error', () => {});
      await admin.connect();
      const t = await startTestRegistry(
        postgres,
        { health: { checkIntervalMs: 100, checkTimeoutMs: 2_000 } },
        { database },
      );
      try {
        const url = t.registry.url;
        await becomes(url, READY, Status.SERVING);
        // The database stops taking connections and every open one is cut.
        await admin.query(`alter database ${name} allow_connections false`);
        await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1',
          [name],
        );
        await becomes(url, READY, Status.NOT_SERVING);
        expect(t.registry.readiness?.failures.get('database')).toMatch(
          /^database does not answer: /,
        );
        expect(await statusOf(url, '')).toBe(Status.SERVING);
        await admin.query(`alter database ${name} allow_connections true`);
        await becomes(url, READY, Status.SERVING);
      } finally {
        await admin.query(`alter database ${name} allow_connections true`).catch(() => {});
        await admin.end();
        await t.cleanup();
        await database.cleanup();
      }
    },
  );

  it('is NOT_SERVING while it holds no trust snapshot (access service not heard from)', async () => {
    const dir = await tempDir('vitrine-readiness-');
    // Nothing listens at the access service's address, and no snapshot was ever stored.
    const access = `http://127.0.0.1:${await freePort()}`;
    await mkdir(dir.path, { recursive: true });
    const registry = await startRegistry(
      {
        center: { id: 'europe', jurisdiction: 'EU' },
        jurisdictions: ['EU'],
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: dir.path,
        access: {
          url: access,
          trustKey: Buffer.alloc(32, 7).toString('base64'),
          backoff: { initialMs: 50, maxMs: 200 },
          // Nothing will answer: waiting the default 10 s for a first snapshot adds nothing.
          firstSnapshotWaitMs: 100,
        },
        health: { checkIntervalMs: 100 },
      },
      { logger: quiet },
    );
    try {
      // Every round of checks fails on the snapshot alone: database and chunks are fine.
      await new Promise((r) => setTimeout(r, 300));
      expect(await statusOf(registry.url, READY)).toBe(Status.NOT_SERVING);
      expect([...(registry.readiness?.failures.keys() ?? [])]).toEqual(['trust snapshot']);
      expect(registry.readiness?.failures.get('trust snapshot')).toContain('no trust snapshot');
      expect(await statusOf(registry.url, '')).toBe(Status.SERVING);
    } finally {
      await registry.stop();
      await dir.cleanup();
    }
  }, 60_000);
});
