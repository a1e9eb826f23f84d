import { join } from 'node:path';
import { Chunker } from '@vitrine/chunks';
import { sha256 } from '@vitrine/crypto';
import { ArtifactState } from '@vitrine/proto/artifact';
import { alterStoredBytes, deterministicBytes, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pull, randomContent, upload } from './artifact-io.js';
import {
  eventually,
  startTestFederation,
  syncClientOf,
  type TestCenter,
  type TestFederation,
} from './federation-harness.js';

/** Resolves once `center` shows the artifact available (whole content verified there). */
function availableAt(center: TestCenter, id: string) {
  return eventually(async () => {
    const { artifact } = await center.client.getArtifact({ id });
    return artifact?.state === ArtifactState.AVAILABLE ? artifact : undefined;
  }, 60_000);
}

/** Chunks fetched from each peer, as `center`'s GetStatus reports them. */
async function fetchedBy(f: TestFederation, center: TestCenter) {
  const { peers } = await syncClientOf(f, center).getStatus({});
  return Object.fromEntries(
    peers.map((p) => [p.centerId, { chunks: p.chunksFetched, bytes: p.bytesFetched }]),
  );
}

describe.each(testBackends())('fetching artifact chunks on $name', (backend) => {
  let f: TestFederation;
  beforeAll(async () => {
    f = await startTestFederation(backend);
  });
  afterAll(() => f.cleanup());

  it('fetches one artifact from every peer that holds it, each chunk once', async () => {
    const { asia, europe, us } = f.centers;
    await us.stopSync();
    const content = randomContent(8 * 1024 * 1024);
    const pushed = await europe.client.pushArtifact(upload('multi-peer', [], content));
    const id = pushed.artifact?.id ?? '';
    await availableAt(asia, id);

    // us comes back knowing nothing of it: both europe and asia hold every chunk.
    await us.startSync();
    const artifact = await availableAt(us, id);
    const fetched = await fetchedBy(f, us);
    expect(fetched.europe?.chunks).toBeGreaterThan(0n);
    expect(fetched.asia?.chunks).toBeGreaterThan(0n);
    const chunks = (fetched.europe?.chunks ?? 0n) + (fetched.asia?.chunks ?? 0n);
    const bytes = (fetched.europe?.bytes ?? 0n) + (fetched.asia?.bytes ?? 0n);
    expect(chunks).toBe(BigInt(artifact.chunkCount));
    expect(bytes).toBe(BigInt(content.length));
    expect(Buffer.compare(await pull(us.client, id), content)).toBe(0);
  });

  it('fetches from the peers that answer when one is down', async () => {
    const { asia, europe, us } = f.centers;
    await us.stopSync();
    await asia.stopSync();
    const content = randomContent(2 * 1024 * 1024);
    const pushed = await europe.client.pushArtifact(upload('one-peer-down', [], content));
    const id = pushed.artifact?.id ?? '';
    await us.startSync();
    const artifact = await availableAt(us, id);
    const fetched = await fetchedBy(f, us);
    expect(fetched.asia?.chunks).toBe(0n);
    expect(fetched.europe?.chunks).toBe(BigInt(artifact.chunkCount));
    await asia.startSync();
    await availableAt(asia, id);
  });

  it("refuses a chunk altered in a peer's store, stores nothing of it, and takes it from another peer", async () => {
    const { asia, europe, us } = f.centers;
    await us.stopSync();
    const content = randomContent(2 * 1024 * 1024);
    const pushed = await europe.client.pushArtifact(upload('altered-at-a-peer', [], content));
    const id = pushed.artifact?.id ?? '';
    await availableAt(asia, id);
    await asia.stopSync();
    const chunker = new Chunker();
    const [, altered] = [...chunker.push(content), ...chunker.finish()];
    if (!altered) throw new Error('content of one chunk');
    const restore = await alterStoredBytes(join(europe.registry.config.dataDir, 'chunks'), altered);
    try {
      // Only europe can serve: every chunk but the altered one arrives.
      await us.startSync();
      const status = await eventually(async () => {
        const fetched = await fetchedBy(f, us);
        const { artifact } = await us.client.getArtifact({ id });
        return artifact && fetched.europe?.chunks === BigInt(artifact.chunkCount - 1)
          ? artifact
          : undefined;
      }, 30_000);
      expect(status.state).toBe(ArtifactState.REPLICATING);
      expect(await us.registry.chunks.missing(10)).toEqual([sha256(altered)]);
      const peers = await syncClientOf(f, us).getStatus({});
      expect(peers.peers.find((p) => p.centerId === 'europe')?.lastError).toMatch(
        /does not match its digest/,
      );
      await asia.startSync();
      await availableAt(us, id);
      expect(Buffer.compare(await pull(us.client, id), content)).toBe(0);
    } finally {
      await restore();
      if (!asia.sync) await asia.startSync();
    }
  });

  it('counts every chunk when many are stored at once, and completes the artifact', async () => {
    const { europe, us } = f.centers;
    await us.stopSync();
    try {
      const content = randomContent(4 * 1024 * 1024);
      const pushed = await europe.client.pushArtifact(upload('stored-at-once', [], content));
      const id = pushed.artifact?.id ?? '';
      // us learns of the artifact from europe's log, its own fetcher stopped.
      const stop = new AbortController();
      const vector = await us.registry.replica.versionVector();
      for await (const event of europe.registry.replica.feed(us, vector, stop.signal)) {
        await us.registry.replica.ingest(event);
        if (
          await us.client.getArtifact({ id }).then(
            () => true,
            () => false,
          )
        )
          break;
      }
      const chunker = new Chunker();
      const chunks = [...chunker.push(content), ...chunker.finish()];
      expect(chunks.length).toBeGreaterThan(16);
      await Promise.all(chunks.map((c) => us.registry.chunks.receive(sha256(c), c).recorded));
      expect(await us.registry.chunks.complete()).toEqual([id]);
      const { artifact } = await us.client.getArtifact({ id });
      expect(artifact?.state).toBe(ArtifactState.AVAILABLE);
      expect(artifact?.bytesHeld).toBe(BigInt(content.length));
    } finally {
      await us.startSync();
    }
  });

  it('fetches a new version as patches of the chunks it replaced', async () => {
    const { asia, europe, us } = f.centers;
    const v1 = deterministicBytes('patched version', 4 * 1024 * 1024);
    const first = (await europe.client.pushArtifact(upload('patch-1', [], v1))).artifact?.id ?? '';
    await availableAt(asia, first);
    await availableAt(us, first);
    const edit = deterministicBytes('the edit', 10 * 1024);
    const v2 = new Uint8Array(Buffer.concat([v1.subarray(0, 2 << 20), edit, v1.subarray(2 << 20)]));
    const bytesFetched = async () =>
      Object.values(await fetchedBy(f, us)).reduce((n, p) => n + Number(p.bytes), 0);
    const before = await bytesFetched();
    const pushed = await europe.client.pushArtifact(
      upload('patch-2', [], v2, { supersedes: first }),
    );
    const second = pushed.artifact?.id ?? '';
    await availableAt(us, second);
    // Without patches, every chunk of v2 that v1 lacks would come whole.
    const chunksOf = async (bytes: Uint8Array) => {
      const chunker = new Chunker();
      const chunks = [...chunker.push(bytes), ...chunker.finish()];
      return new Map(chunks.map((c) => [Buffer.from(sha256(c)).toString('hex'), c.length]));
    };
    const old = await chunksOf(v1);
    const whole = [...(await chunksOf(v2))].reduce(
      (n, [hex, size]) => (old.has(hex) ? n : n + size),
      0,
    );
    const fetched = (await bytesFetched()) - before;
    expect(fetched).toBeGreaterThanOrEqual(edit.length);
    expect(fetched).toBeLessThan(whole / 2);
    expect(Buffer.compare(await pull(us.client, second), v2)).toBe(0);
  });
});
