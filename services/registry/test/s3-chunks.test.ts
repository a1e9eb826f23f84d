import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConnectError } from '@connectrpc/connect';
import type { S3Credentials } from '@vitrine/chunks';
import { isVitrineError } from '@vitrine/errors';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Health, HealthCheckResponse_ServingStatus as Status } from '@vitrine/proto/health';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import {
  grpcCodeOf,
  type TempDir,
  type TestGateway,
  tempDir,
  testBackends,
  testGateway,
  testGatewaySkipReason,
} from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, randomContent, startTestRegistry, uploadOf } from './harness.js';

const [pglite] = testBackends();

describe.skipIf(testGatewaySkipReason !== undefined)(
  'a registry keeping chunks in S3 (Ceph RGW)',
  () => {
    let gateway: TestGateway;
    let keys: TempDir;

    /** The `chunkStore` setting for `bucket`, its key in a 0600 file. */
    async function inBucket(bucket: string, credentials: S3Credentials) {
      const credentialsFile = join(keys.path, `${bucket}-${credentials.accessKeyId}.json`);
      await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
      return { kind: 's3' as const, endpoint: gateway.endpoint, bucket, credentialsFile };
    }

    beforeAll(async () => {
      gateway = await testGateway();
      keys = await tempDir('vitrine-s3-keys-');
    }, 300_000);
    afterAll(() => keys?.cleanup());

    it('stores a pushed artifact as objects of the bucket and serves it back, verified', async () => {
      const bucket = await gateway.bucket();
      const t = await startTestRegistry(pglite as NonNullable<typeof pglite>, {
        chunkStore: await inBucket(bucket, gateway.credentials),
      });
      try {
        expect(t.registry.config.chunkStore).toMatchObject({ kind: 's3', prefix: 'chunks/' });
        const content = randomContent(3 * 1024 * 1024 + 17);
        const pushed = await t.client.pushArtifact(
          uploadOf({ kind: ArtifactKind.SOURCE, product: 'agent', version: '1' }, content),
        );
        expect(pushed.chunksStored).toBeGreaterThan(1);
        const again = await t.client.pushArtifact(
          uploadOf({ kind: ArtifactKind.SOURCE, product: 'agent', version: '2' }, content),
        );
        expect(again.chunksStored).toBe(0);
        expect(again.chunksReused).toBe(pushed.chunksStored);
        const { bytes } = await download(t.client, pushed.artifact?.id ?? '');
        expect(Buffer.from(bytes).equals(content)).toBe(true);
      } finally {
        await t.cleanup();
      }
    });

    it('is NOT_SERVING while the bucket refuses writes, and refuses a push UNAVAILABLE, storing nothing', async () => {
      const bucket = await gateway.bucket();
      const t = await startTestRegistry(pglite as NonNullable<typeof pglite>, {
        chunkStore: await inBucket(bucket, gateway.readOnly),
        health: { checkIntervalMs: 100 },
      });
      try {
        const health = createGrpcClient(Health, t.registry.url);
        // Health starts NOT_SERVING until the first checks ran: wait for the chunk store's.
        const deadline = Date.now() + 30_000;
        while (
          (await health.check({ service: RegistryService.typeName })).status !==
            Status.NOT_SERVING ||
          !t.registry.readiness?.failures.has('chunk store')
        ) {
          if (Date.now() > deadline) throw new Error('the chunk store check has not failed');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(t.registry.readiness?.failures.get('chunk store')).toBe(
          `chunk store bucket "${bucket}" refuses to take writes (AccessDenied): check registry.chunkStore credentials and the bucket's policy`,
        );
        const push = t.client.pushArtifact(
          uploadOf(
            { kind: ArtifactKind.SOURCE, product: 'agent', version: '1' },
            randomContent(4096),
          ),
        );
        expect(await grpcCodeOf(push)).toBe('UNAVAILABLE');
        const err = ConnectError.from(
          await t.client
            .pushArtifact(
              uploadOf(
                { kind: ArtifactKind.SOURCE, product: 'agent', version: '2' },
                randomContent(99),
              ),
            )
            .catch((e: unknown) => e),
        );
        expect(err.rawMessage).toMatch(
          new RegExp(
            `^chunk store bucket "${bucket}" refuses to store chunk [0-9a-f]{64} \\(AccessDenied\\)`,
          ),
        );
        expect(err.rawMessage).not.toContain(gateway.readOnly.secretAccessKey);
        const { artifacts } = await t.client.listArtifacts({});
        expect(artifacts).toEqual([]);
      } finally {
        await t.cleanup();
      }
    });

    it('does not start on a bucket that does not exist, naming the setting', async () => {
      const err = await startTestRegistry(pglite as NonNullable<typeof pglite>, {
        chunkStore: await inBucket('no-such-bucket', gateway.credentials),
      }).catch((e: unknown) => e);
      expect(isVitrineError(err) ? err.code : err).toBe('failed_precondition');
      expect((err as Error).message).toBe(
        `chunk store bucket "no-such-bucket" does not exist at ${gateway.endpoint}: create it or fix registry.chunkStore.bucket`,
      );
    });
  },
);
