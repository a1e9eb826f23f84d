import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  freePort,
  freePortBlock,
  type TempDir,
  type TestGateway,
  tempDir,
  testBackends,
  testGateway,
  testGatewaySkipReason,
} from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceProcess } from '../cli/src/service-process.js';
import { DEV_PORT_SPAN, startDev, vitrine, vitrineJson } from './cli-process.js';

/** Ample time for an artifact's bytes to replicate on a loaded machine. */
const REPLICATION_LIMIT_MS = 120_000;

const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined || testGatewaySkipReason !== undefined)(
  'two registry processes of one center on one PostgreSQL and one S3 bucket act as one center',
  () => {
    let home: TempDir;
    let gateway: TestGateway;
    let bucket: string;
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

    /** Objects in the center's bucket. */
    async function objectsInBucket(): Promise<number> {
      const client = new S3Client({
        endpoint: gateway.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: gateway.credentials,
      });
      try {
        let count = 0;
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
          );
          count += page.KeyCount ?? 0;
          token = page.NextContinuationToken;
        } while (token !== undefined);
        return count;
      } finally {
        client.destroy();
      }
    }

    beforeAll(async () => {
      home = await tempDir('vitrine-s3-replicas-');
      gateway = await testGateway();
      bucket = await gateway.bucket();
      database = await (postgres as NonNullable<typeof postgres>).open();
      const dev = await startDev(home.path, await freePortBlock(DEV_PORT_SPAN));
      expect(await dev.stop()).toBe(0);
      // us keeps its state in PostgreSQL and its chunks in the bucket, and runs as two
      // processes: us-a (the address federation.json names) and us-b, on another port.
      const credentialsFile = join(home.path, 'config', 's3-key.json');
      await writeFile(credentialsFile, JSON.stringify(gateway.credentials), { mode: 0o600 });
      const us = JSON.parse(await readFile(join(home.path, 'config', 'us.json'), 'utf8'));
      us.registry.databaseUrl = database.url;
      us.registry.chunkStore = { kind: 's3', endpoint: gateway.endpoint, bucket, credentialsFile };
      await writeFile(join(home.path, 'config', 'us-a.json'), JSON.stringify(us, null, 2));
      us.registry.listen.port = await freePort();
      await writeFile(join(home.path, 'config', 'us-b.json'), JSON.stringify(us, null, 2));
      await start('access', 'access');
      await start('europe', 'center');
    }, 300_000);

    afterAll(async () => {
      await Promise.all([...running.values()].map((service) => service.stop()));
      if (process.env.VITRINE_KEEP_TEST_HOME === undefined) await home?.cleanup();
      await database?.cleanup();
    });

    it('pushed through one process, pulled through the other; replicated into the bucket; an upload cut off by SIGKILL leaves no artifact', async () => {
      const usA = await start('us-a', 'center');
      const usB = await start('us-b', 'center');
      const viaA = [...at('us'), '--endpoint', usA.ready.registry ?? ''];
      const viaB = [...at('us'), '--endpoint', usB.ready.registry ?? ''];
      const pushArgs = (version: string, residency: string) => [
        ...['--kind', 'source', '--product', 'router-os', '--version', version],
        ...['--residency', residency],
      ];

      // Pushed through us-a, pulled through us-b byte for byte.
      const file = join(home.path, 'image.bin');
      const content = randomBytes(3 * 1024 * 1024);
      await writeFile(file, content);
      const pushed = await vitrineJson<{ artifact: { id: string } }>([
        ...['artifact', 'push', file],
        ...viaA,
        ...pushArgs('1.0', 'US'),
      ]);
      const out = join(home.path, 'pulled.bin');
      await vitrineJson(['artifact', 'pull', pushed.artifact.id, ...viaB, '-o', out]);
      expect(Buffer.compare(await readFile(out), content)).toBe(0);

      // An artifact pushed to europe for EU and US reaches us's bucket by replication, and
      // either process serves it.
      const euFile = join(home.path, 'eu.bin');
      const euContent = randomBytes(2 * 1024 * 1024);
      await writeFile(euFile, euContent);
      const fromEurope = await vitrineJson<{ artifact: { id: string } }>([
        ...['artifact', 'push', euFile],
        ...at('europe'),
        ...pushArgs('2.0', 'EU,US'),
      ]);
      const replicated = join(home.path, 'replicated.bin');
      const deadline = Date.now() + REPLICATION_LIMIT_MS;
      for (;;) {
        const pulled = await vitrine([
          'artifact',
          'pull',
          fromEurope.artifact.id,
          ...viaA,
          '-o',
          replicated,
          '--json',
        ]);
        if (pulled.code === 0) break;
        if (Date.now() > deadline) throw new Error(`not replicated into us: ${pulled.stdout}`);
        await sleep(1_000);
      }
      expect(Buffer.compare(await readFile(replicated), euContent)).toBe(0);
      const viaOther = join(home.path, 'replicated-b.bin');
      await vitrineJson(['artifact', 'pull', fromEurope.artifact.id, ...viaB, '-o', viaOther]);
      expect(Buffer.compare(await readFile(viaOther), euContent)).toBe(0);

      // us-a dies in the middle of an upload to it: nothing of it is shown as an artifact.
      const big = join(home.path, 'cut-off.img');
      await writeFile(big, randomBytes(64 * 1024 * 1024));
      const before = await objectsInBucket();
      const upload = vitrine([
        ...['artifact', 'push', big],
        ...viaA,
        ...['--kind', 'update', '--product', 'cut-off', '--version', '1.0', '--residency', 'US'],
        '--json',
      ]);
      while ((await objectsInBucket()) === before) await sleep(100);
      process.kill(usA.pid ?? 0, 'SIGKILL');
      expect((await usA.exited).signal).toBe('SIGKILL');
      expect((await upload).code).not.toBe(0);
      const listed = await vitrineJson<{ artifacts: { product: string }[] }>([
        ...['artifact', 'ls'],
        ...viaB,
      ]);
      expect(listed.artifacts.map((a) => a.product).sort()).toEqual(['router-os', 'router-os']);
      expect(listed.artifacts.map((a) => a.product)).not.toContain('cut-off');
    }, 600_000);
  },
);
