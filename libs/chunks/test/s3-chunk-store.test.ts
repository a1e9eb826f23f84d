import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type ErrorCode, isVitrineError } from '@vitrine/errors';
import {
  type TempDir,
  type TestGateway,
  tempDir,
  testGateway,
  testGatewaySkipReason,
} from '@vitrine/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChunkStore } from '../src/chunk-store.js';
import { S3Layout } from '../src/s3-layout.js';
import { loadS3Credentials } from '../src/s3-settings.js';
import { sha256, toHex } from '../src/sha256.js';
import { deterministicBytes } from './deterministic-bytes.js';

/** Awaits `promise`, expecting a VitrineError with `code`; returns its message. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVitrineError(err) ? err.code : err).toBe(code);
  return (err as Error).message;
}

const chunk = (seed: number, size = 64 * 1024) => deterministicBytes(`s3 chunk ${seed}`, size);

if (testGatewaySkipReason !== undefined) console.warn(`skipped: ${testGatewaySkipReason}`);

describe.skipIf(testGatewaySkipReason !== undefined)(
  'ChunkStore on a real S3 gateway (Ceph RGW)',
  () => {
    let gateway: TestGateway;
    let bucket: string;
    let opened: ChunkStore[] = [];
    const open = async (settings = gateway.settings(bucket)) => {
      const store = await ChunkStore.openS3(settings);
      opened.push(store);
      return store;
    };

    beforeAll(async () => {
      gateway = await testGateway();
    }, 300_000);
    afterEach(async () => {
      await Promise.all(opened.map((store) => store.close()));
      opened = [];
    });

    it('stores, finds, reads back, sizes and deletes chunks, each stored once', async () => {
      bucket = await gateway.bucket();
      const store = await open();
      expect(store.location).toBe(`s3://${bucket}/chunks/`);
      const data = [chunk(1), chunk(2, 1000), chunk(3, 256 * 1024)];
      const puts = await Promise.all(data.map((d) => store.put(d)));
      expect(puts.map((p) => p.stored)).toEqual([true, true, true]);
      expect((await store.put(data[0] as Uint8Array)).stored).toBe(false);
      const digests = puts.map((p) => p.digest);
      expect(await store.has(digests[1] as Uint8Array)).toBe(true);
      expect(await store.size(digests[2] as Uint8Array)).toBe(256 * 1024);
      expect(
        Buffer.from(await store.read(digests[2] as Uint8Array)).equals(data[2] as Uint8Array),
      ).toBe(true);
      const missing = sha256(chunk(99));
      const batch = await store.readBatch([digests[0] as Uint8Array, missing]);
      expect(batch[1]).toBeUndefined();
      expect(Buffer.from(batch[0] as Uint8Array).equals(data[0] as Uint8Array)).toBe(true);
      const streamed: Uint8Array[] = [];
      for await (const bytes of store.readMany(digests)) streamed.push(bytes);
      expect(Buffer.concat(streamed).equals(Buffer.concat(data))).toBe(true);
      expect(await rejectsWith(store.read(missing), 'not_found')).toBe(
        `chunk ${toHex(missing)} not found`,
      );
      expect(await rejectsWith(store.size(missing), 'not_found')).toContain('not found');
      expect(await store.delete(digests[0] as Uint8Array)).toBe(true);
      expect(await store.delete(digests[0] as Uint8Array)).toBe(false);
      expect(await store.has(digests[0] as Uint8Array)).toBe(false);
      await store.checkWritable();
    });

    it('refuses bytes that do not match the digest given, before storing anything', async () => {
      bucket = await gateway.bucket();
      const store = await open();
      const claimed = sha256(chunk(4));
      expect(await rejectsWith(store.put(chunk(5), claimed), 'data_loss')).toContain(
        'does not match its digest',
      );
      expect(await store.has(claimed)).toBe(false);
    });

    it('finds an object altered in the bucket on read: DATA_LOSS, unless verification is off', async () => {
      bucket = await gateway.bucket();
      const store = await open();
      const { digest } = await store.put(chunk(6));
      const tampered = chunk(6);
      tampered[100] = (tampered[100] as number) ^ 1;
      const client = new S3Client({
        endpoint: gateway.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: gateway.credentials,
      });
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: `chunks/${toHex(digest)}`, Body: tampered }),
      );
      client.destroy();
      expect(await rejectsWith(store.read(digest), 'data_loss')).toBe(
        `chunk ${toHex(digest)} failed verification`,
      );
      await rejectsWith(store.readBatch([digest]), 'data_loss');
      expect(Buffer.from(await store.read(digest, { verify: false })).equals(tampered)).toBe(true);
    });

    it('two stores on one bucket putting the same chunks at once store each exactly once', async () => {
      bucket = await gateway.bucket();
      const [a, b] = [await open(), await open()];
      const data = Array.from({ length: 16 }, (_, i) => chunk(100 + i, 16 * 1024));
      const [fromA, fromB] = await Promise.all([
        Promise.all(data.map((d) => a.put(d))),
        Promise.all(data.map((d) => b.put(d))),
      ]);
      data.forEach((_, i) => {
        expect(Number(fromA[i]?.stored) + Number(fromB[i]?.stored)).toBe(1);
      });
      for (const [i, d] of data.entries()) {
        expect(Buffer.from(await b.read(sha256(d))).equals(data[i] as Uint8Array)).toBe(true);
      }
    });

    it('keeps at most maxInFlight requests in flight, whatever the callers', async () => {
      bucket = await gateway.bucket();
      const layout = await S3Layout.open(gateway.settings(bucket, { maxInFlight: 3 }));
      try {
        const data = Array.from({ length: 24 }, (_, i) => chunk(200 + i, 4096));
        const written = await Promise.all(data.map((d) => layout.write(toHex(sha256(d)), d)));
        expect(written.every(Boolean)).toBe(true);
        expect(layout.peakInFlight).toBe(3);
        const read = await layout.readBatch(data.map((d) => toHex(sha256(d))));
        expect(read.every((bytes, i) => bytes?.equals(data[i] as Uint8Array))).toBe(true);
        expect(layout.peakInFlight).toBe(3);
      } finally {
        await layout.close();
      }
    });

    it('a bucket that refuses writes: not writable, by name; the put fails UNAVAILABLE and nothing is stored', async () => {
      bucket = await gateway.bucket();
      const reader = await open(gateway.settings(bucket, { credentials: gateway.readOnly }));
      const message = await rejectsWith(reader.checkWritable(), 'unavailable');
      expect(message).toBe(
        `chunk store bucket "${bucket}" refuses to take writes (AccessDenied): check chunkStore credentials and the bucket's policy`,
      );
      const data = chunk(7);
      expect(await rejectsWith(reader.put(data), 'unavailable')).toContain(
        `chunk store bucket "${bucket}" refuses to store chunk ${toHex(sha256(data))} (AccessDenied)`,
      );
      const writer = await open();
      expect(await writer.has(sha256(data))).toBe(false);
      expect(await reader.has(sha256(data))).toBe(false);
    });

    it('names the setting when the bucket is missing, the endpoint unreachable or the key wrong', async () => {
      const missing = gateway.settings('no-such-bucket');
      expect(await rejectsWith(ChunkStore.openS3(missing), 'failed_precondition')).toBe(
        `chunk store bucket "no-such-bucket" does not exist at ${gateway.endpoint}: create it or fix chunkStore.bucket`,
      );
      bucket = await gateway.bucket();
      const nowhere = gateway.settings(bucket, { endpoint: 'http://127.0.0.1:9' });
      expect(await rejectsWith(ChunkStore.openS3(nowhere), 'unavailable')).toBe(
        'chunk store endpoint http://127.0.0.1:9 is unreachable (ECONNREFUSED): check chunkStore.endpoint',
      );
      const wrongKey = gateway.settings(bucket, {
        credentials: { ...gateway.credentials, secretAccessKey: 'not-the-secret' },
      });
      const message = await rejectsWith(ChunkStore.openS3(wrongKey), 'unavailable');
      expect(message).toMatch(
        new RegExp(
          `^chunk store bucket "${bucket}" refuses to reach the bucket \\(.+\\): check chunkStore credentials`,
        ),
      );
      expect(message).not.toContain('not-the-secret');
    });
  },
);

describe('S3 credentials', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await tempDir('vitrine-s3-keys-');
  });
  afterAll(() => dir.cleanup());

  it('come from a 0600 file, or from the environment', async () => {
    const file = join(dir.path, 'ok.json');
    await writeFile(file, JSON.stringify({ accessKeyId: 'id', secretAccessKey: 'secret' }), {
      mode: 0o600,
    });
    expect(await loadS3Credentials(file, {}, 'registry.chunkStore')).toEqual({
      accessKeyId: 'id',
      secretAccessKey: 'secret',
    });
    const env = { VITRINE_S3_ACCESS_KEY_ID: 'id2', VITRINE_S3_SECRET_ACCESS_KEY: 'secret2' };
    expect(await loadS3Credentials(undefined, env, 'registry.chunkStore')).toEqual({
      accessKeyId: 'id2',
      secretAccessKey: 'secret2',
    });
  });

  it('are refused, by setting, when the file is readable by others, malformed or absent', async () => {
    const open = join(dir.path, 'open.json');
    await writeFile(open, JSON.stringify({ accessKeyId: 'id', secretAccessKey: 'secret' }));
    await chmod(open, 0o644);
    expect(
      await rejectsWith(loadS3Credentials(open, {}, 'registry.chunkStore'), 'failed_precondition'),
    ).toBe(
      `registry.chunkStore.credentialsFile (${open}) is readable by others (mode 644): chmod 600 it`,
    );
    const bad = join(dir.path, 'bad.json');
    await writeFile(bad, JSON.stringify({ accessKeyId: 'id' }), { mode: 0o600 });
    expect(
      await rejectsWith(loadS3Credentials(bad, {}, 'registry.chunkStore'), 'failed_precondition'),
    ).toContain('must hold {"accessKeyId"');
    await rejectsWith(
      loadS3Credentials(join(dir.path, 'none'), {}, 'registry.chunkStore'),
      'failed_precondition',
    );
    expect(
      await rejectsWith(
        loadS3Credentials(undefined, {}, 'registry.chunkStore'),
        'failed_precondition',
      ),
    ).toBe(
      'registry.chunkStore: no S3 credentials: set registry.chunkStore.credentialsFile or the environment variables VITRINE_S3_ACCESS_KEY_ID and VITRINE_S3_SECRET_ACCESS_KEY',
    );
  });
});
