import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { Chunker } from '@vitrine/chunks';
import { sha256, toHex, verifyDetached } from '@vitrine/crypto';
import { ArtifactKind, ArtifactState, ManifestSchema } from '@vitrine/proto/artifact';
import type { PushArtifactResponse } from '@vitrine/proto/registry';
import { MANIFEST_DOMAIN } from '@vitrine/registry';
import { alterStoredBytes, grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  download,
  randomContent,
  startTestRegistry,
  type TestRegistry,
  uploadOf,
} from './harness.js';

/** The product of the two versions every test may rely on; other uploads use `scratch`. */
const PRODUCT = 'endpoint-agent';

const meta = (version: string, extra: Record<string, unknown> = {}) => ({
  kind: ArtifactKind.SOURCE,
  product: PRODUCT,
  version,
  ...extra,
});

const codeOf = grpcCodeOf;

describe.each(testBackends())('registry artifacts on $name', (backend) => {
  let t: TestRegistry;
  const content = randomContent(5 * 1024 * 1024 + 12345);
  /** `content` with 100 bytes inserted in the middle: version 1.0.1. */
  const edited = new Uint8Array(content.length + 100);
  const mid = 2 * 1024 * 1024;
  edited.set(content.subarray(0, mid));
  edited.set(randomContent(100), mid);
  edited.set(content.subarray(mid), mid + 100);
  // The two versions, pushed before any test so that each test may run alone.
  let first: PushArtifactResponse;
  let second: PushArtifactResponse;
  let firstId = '';

  beforeAll(async () => {
    t = await startTestRegistry(backend, { maxArtifactBytes: 16 * 1024 * 1024 });
    first = await t.client.pushArtifact(
      uploadOf(meta('1.0.0', { residency: ['US', 'EU'] }), content),
    );
    firstId = first.artifact?.id ?? '';
    second = await t.client.pushArtifact(
      uploadOf(meta('1.0.1', { supersedes: firstId, kind: ArtifactKind.UPDATE }), edited),
    );
  });
  afterAll(() => t.cleanup());

  it('stores a multi-chunk upload and serves it back byte for byte', async () => {
    const res = first;
    expect(firstId).toMatch(/^[0-9a-f]{64}$/);
    expect(res.created).toBe(true);
    expect(res.chunksStored).toBeGreaterThan(20);
    expect(res.chunksReused).toBe(0);
    expect(res.artifact).toMatchObject({
      kind: ArtifactKind.SOURCE,
      size: BigInt(content.length),
      contentDigest: toHex(sha256(content)),
      residency: ['EU', 'US'],
      origin: 'europe',
      state: ArtifactState.AVAILABLE,
      bytesHeld: BigInt(content.length),
    });
    const { header, bytes } = await download(t.client, firstId);
    expect(header).toMatchObject({ id: firstId });
    expect(Buffer.compare(bytes, content)).toBe(0);
  });

  it('serves the manifest as the origin signed it, which the id names', async () => {
    const { artifact, manifest, manifestSignature } = await t.client.getArtifact({ id: firstId });
    expect(toHex(sha256(Buffer.from(MANIFEST_DOMAIN), manifest))).toBe(firstId);
    await verifyDetached(t.registry.publicKey, MANIFEST_DOMAIN, manifest, manifestSignature);
    const decoded = fromBinary(ManifestSchema, manifest);
    expect(toHex(decoded.contentDigest)).toBe(artifact?.contentDigest);
    expect(decoded.size).toBe(BigInt(content.length));
    const flipped = manifestSignature.slice();
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await expect(
      verifyDetached(t.registry.publicKey, MANIFEST_DOMAIN, manifest, flipped),
    ).rejects.toMatchObject({ code: 'data_loss' });
  });

  it('returns the same id and stores nothing for a repeated upload', async () => {
    const res = await t.client.pushArtifact(
      uploadOf(meta('1.0.0', { residency: ['EU', 'US'] }), content, 77_777),
    );
    expect(res.artifact?.id).toBe(firstId);
    expect(res.created).toBe(false);
    expect(res.chunksStored).toBe(0);
    const list = await t.client.listArtifacts({ product: PRODUCT });
    expect(list.artifacts.filter((a) => a.version === '1.0.0').map((a) => a.id)).toEqual([firstId]);
  });

  it('shares chunks between versions: an edit stores only the chunks around it', async () => {
    const res = second;
    expect(res.created).toBe(true);
    expect(res.chunksStored).toBeLessThanOrEqual(3);
    expect(res.chunksReused).toBeGreaterThan(20);
    expect(res.artifact?.supersedes).toBe(firstId);
    const { bytes } = await download(t.client, res.artifact?.id ?? '');
    expect(Buffer.compare(bytes, edited)).toBe(0);
  });

  it('keeps artifacts across a restart', async () => {
    await t.restart();
    const got = await t.client.getArtifact({ id: firstId });
    expect(got.artifact?.version).toBe('1.0.0');
    const { bytes } = await download(t.client, firstId);
    expect(Buffer.compare(bytes, content)).toBe(0);
  });

  it('lists with filters and page tokens', async () => {
    const page1 = await t.client.listArtifacts({ product: PRODUCT, pageSize: 1 });
    expect(page1.artifacts).toHaveLength(1);
    expect(page1.nextPageToken).not.toBe('');
    const page2 = await t.client.listArtifacts({
      product: PRODUCT,
      pageSize: 1,
      pageToken: page1.nextPageToken,
    });
    expect(page2.artifacts).toHaveLength(1);
    expect(page2.nextPageToken).toBe('');
    // Newest first.
    expect([page1.artifacts[0]?.version, page2.artifacts[0]?.version]).toEqual(['1.0.1', '1.0.0']);
    const updates = await t.client.listArtifacts({ kind: ArtifactKind.UPDATE });
    expect(updates.artifacts.map((a) => a.version)).toEqual(['1.0.1']);
    expect(await codeOf(t.client.listArtifacts({ pageToken: 'garbage!' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(t.client.listArtifacts({ pageSize: 5000 }))).toBe('INVALID_ARGUMENT');
  });

  it('lists the artifacts whose id starts with a prefix, refusing one that is not 4+ hex digits', async () => {
    const all = (await t.client.listArtifacts({})).artifacts.map((a) => a.id);
    expect(all).toContain(firstId);
    for (const length of [4, 10, 64]) {
      const prefix = firstId.slice(0, length);
      const listed = await t.client.listArtifacts({ idPrefix: prefix });
      expect(listed.artifacts.map((a) => a.id)).toEqual(all.filter((id) => id.startsWith(prefix)));
    }
    const unused = ['0000', 'ffff', 'abcd'].find((p) => !all.some((id) => id.startsWith(p)));
    expect((await t.client.listArtifacts({ idPrefix: unused ?? '' })).artifacts).toEqual([]);
    for (const bad of ['abc', 'ABCD', 'abcg', '12_%', 'a'.repeat(65)]) {
      const err = await t.client
        .listArtifacts({ idPrefix: bad })
        .catch((e) => ConnectError.from(e));
      expect(err).toMatchObject({ code: Code.InvalidArgument });
      expect((err as ConnectError).rawMessage).toContain('id_prefix');
    }
  });

  it('refuses malformed uploads with INVALID_ARGUMENT naming each bad field', async () => {
    const err = await t.client
      .pushArtifact(
        uploadOf({ kind: 0, product: '', version: 'x'.repeat(300), residency: ['MARS'] }, content),
      )
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    for (const field of [
      'metadata.kind',
      'metadata.product',
      'metadata.version',
      'metadata.residency[0]',
    ]) {
      expect((err as ConnectError).rawMessage).toContain(field);
    }
    async function* dataFirst() {
      yield { part: { case: 'data' as const, value: new Uint8Array(10) } };
    }
    expect(await codeOf(t.client.pushArtifact(dataFirst()))).toBe('INVALID_ARGUMENT');
    async function* metadataTwice() {
      yield { part: { case: 'metadata' as const, value: meta('9') } };
      yield { part: { case: 'metadata' as const, value: meta('9') } };
    }
    expect(await codeOf(t.client.pushArtifact(metadataTwice()))).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(
        t.client.pushArtifact(uploadOf(meta('9', { supersedes: 'a'.repeat(64) }), content)),
      ),
    ).toBe('NOT_FOUND');
  });

  it('refuses oversized messages and artifacts, leaving no record', async () => {
    expect(
      await codeOf(
        t.client.pushArtifact(
          uploadOf(meta('big-msg'), randomContent(5 * 1024 * 1024), 5 * 1024 * 1024),
        ),
      ),
    ).toBe('RESOURCE_EXHAUSTED');
    expect(
      await codeOf(t.client.pushArtifact(uploadOf(meta('big'), new Uint8Array(17 * 1024 * 1024)))),
    ).toBe('RESOURCE_EXHAUSTED');
    const list = await t.client.listArtifacts({});
    expect(list.artifacts.filter((a) => a.version.startsWith('big'))).toEqual([]);
  });

  it('refuses content that does not match expected_digest with DATA_LOSS', async () => {
    const small = randomContent(100_000);
    const wrong = sha256(new Uint8Array([1]));
    expect(
      await codeOf(
        t.client.pushArtifact(
          uploadOf(meta('digest', { product: 'scratch', expectedDigest: wrong }), small),
        ),
      ),
    ).toBe('DATA_LOSS');
    const ok = await t.client.pushArtifact(
      uploadOf(meta('digest', { product: 'scratch', expectedDigest: sha256(small) }), small),
    );
    expect(ok.created).toBe(true);
  });

  it('leaves no artifact and no partial chunk when an upload is cut off', async () => {
    const abort = new AbortController();
    async function* cutOff() {
      yield { part: { case: 'metadata' as const, value: meta('cut') } };
      yield { part: { case: 'data' as const, value: randomContent(1024 * 1024) } };
      await new Promise((r) => setTimeout(r, 200));
      abort.abort();
      yield { part: { case: 'data' as const, value: randomContent(1024 * 1024) } };
    }
    expect(await codeOf(t.client.pushArtifact(cutOff(), { signal: abort.signal }))).toBe(
      'CANCELLED',
    );
    await new Promise((r) => setTimeout(r, 300));
    const list = await t.client.listArtifacts({ product: 'endpoint-agent' });
    expect(list.artifacts.some((a) => a.version === 'cut')).toBe(false);
    expect(await readdir(join(t.dataDir, 'chunks', 'tmp'))).toEqual([]);
  });

  it('answers NOT_FOUND for unknown ids and INVALID_ARGUMENT for malformed ones', async () => {
    expect(await codeOf(t.client.getArtifact({ id: 'f'.repeat(64) }))).toBe('NOT_FOUND');
    expect(await codeOf(download(t.client, 'f'.repeat(64)))).toBe('NOT_FOUND');
    expect(await codeOf(t.client.getArtifact({ id: 'not-an-id' }))).toBe('INVALID_ARGUMENT');
  });

  it('answers DATA_LOSS when a stored chunk was altered on disk', async () => {
    const small = randomContent(300_000);
    const res = await t.client.pushArtifact(
      uploadOf(meta('tamper', { product: 'scratch' }), small),
    );
    const [firstChunk] = new Chunker().push(small);
    await alterStoredBytes(join(t.dataDir, 'chunks'), firstChunk ?? new Uint8Array());
    expect(await codeOf(download(t.client, res.artifact?.id ?? ''))).toBe('DATA_LOSS');
  });
});
