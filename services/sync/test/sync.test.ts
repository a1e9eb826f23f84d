import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { initiateHandshake, signManifest, verifyManifest } from '@vitrine/channel';
import { Chunker } from '@vitrine/chunks';
import { generateSigningKeyPair, sha256 } from '@vitrine/crypto';
import { ArtifactState } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import { LogService } from '@vitrine/proto/log';
import {
  type ChunkBaseSchema,
  ChunksPlaintextSchema,
  FetchChunksPlaintextSchema,
  SubscribePlaintextSchema,
  SyncService,
} from '@vitrine/proto/sync';
import { MAX_BASE_RUN } from '@vitrine/registry';
import { createConnectClient, createGrpcClient } from '@vitrine/rpc';
import { findStoredBytes, grpcCodeOf, testBackends } from '@vitrine/testing';
import { formatCheckpoint, noteSigner, signNote } from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pull, randomContent, upload } from './artifact-io.js';
import {
  eventually,
  startTestFederation,
  syncClientOf,
  type TestFederation,
} from './federation-harness.js';

const codeOf = grpcCodeOf;

describe.each(testBackends())('sync between three centers on $name', (backend) => {
  let f: TestFederation;
  beforeAll(async () => {
    f = await startTestFederation(backend);
  });
  afterAll(() => f.cleanup());

  it('replicates findings live to every center, and edits anywhere converge', async () => {
    const { asia, europe, us } = f.centers;
    const artifact = await europe.client.pushArtifact(upload('1.0', []));
    const id = artifact.artifact?.id ?? '';
    const { finding } = await europe.client.createFinding({
      artifactIds: [id],
      title: 'Replicated finding',
      severity: Severity.HIGH,
    });
    const fid = finding?.id ?? '';
    for (const c of [asia, us]) {
      const got = await eventually(() => c.client.getFinding({ id: fid }));
      expect(got.finding?.title).toBe('Replicated finding');
    }
    const seenAtUs = await us.client.getArtifact({ id });
    expect(seenAtUs.artifact?.origin).toBe('europe');

    await us.client.updateFinding({ id: fid, status: FindingStatus.TRIAGED, assignee: 'us-team' });
    await asia.client.addComment({ findingId: fid, text: 'seen in Singapore' });
    const settled = async (c: typeof asia) => {
      const got = await c.client.getFinding({ id: fid });
      return got.history.length === 3 ? got : undefined;
    };
    const views = await Promise.all([asia, europe, us].map((c) => eventually(() => settled(c))));
    const [first, ...rest] = views.map((v) => ({ finding: v.finding, history: v.history }));
    for (const view of rest) expect(view).toEqual(first);
    expect(first?.finding?.status).toBe(FindingStatus.TRIAGED);
  });

  it('has every center take every peer’s latest checkpoint, checked against what it holds', async () => {
    const { asia, europe, us } = f.centers;
    const head = async (c: typeof europe) =>
      (await c.registry.replica.versionVector()).get(c.id) ?? 0n;
    for (const witness of [asia, europe, us]) {
      for (const peer of [asia, europe, us].filter((c) => c !== witness)) {
        const want = Number(await head(peer));
        const seen = await eventually(async () => {
          const latest = await witness.registry.witness.latestSeen(peer.id);
          return latest !== undefined && latest.size >= want ? latest : undefined;
        });
        expect(seen.note).toMatch(new RegExp(`^test/${peer.id}\n${seen.size}\n`));
      }
    }
    for (const c of [asia, europe, us]) expect(await c.registry.witness.evidence()).toEqual([]);
  });

  it('reports a peer found forked in GetStatus and refuses its events until an operator resumes it', async () => {
    const { europe, us } = f.centers;
    const held = Number((await us.registry.replica.versionVector()).get('europe') ?? 0n);
    const signer = noteSigner('test/europe', europe.key);
    const text = formatCheckpoint({
      origin: signer.name,
      size: held,
      root: new Uint8Array(32),
      extensions: [],
    });
    const forged = await signNote(text, [signer]);
    const status = syncClientOf(f, us);
    const log = createGrpcClient(LogService, us.registry.url, {
      interceptors: f.trust ? [f.trust.operatorAuth('us')] : [],
    });
    try {
      // Another root for a size us holds (and may have seen signed): fork or inconsistent.
      const seen = await us.registry.witness.observe('europe', forged, false, async () => []);
      expect(seen.outcome).toBe('evidence');
      expect((await status.getStatus({})).forkedOrigins).toEqual(['europe']);
      const listed = await log.listEvidence({ origin: 'europe' });
      expect(listed.evidence.map((e) => e.checkpoint)).toEqual([forged]);
    } finally {
      expect((await log.resumeOrigin({ origin: 'europe' })).evidenceResumed).toBe(1);
    }
    expect((await status.getStatus({})).forkedOrigins).toEqual([]);
    expect((await log.listEvidence({})).evidence[0]?.resumedAtMs).toBeGreaterThan(0n);
  });

  it('replicates artifact bytes, verified, until the artifact is available everywhere', async () => {
    const { asia, europe, us } = f.centers;
    const content = randomContent(3 * 1024 * 1024 + 5);
    const pushed = await europe.client.pushArtifact(upload('2.0', [], content));
    const id = pushed.artifact?.id ?? '';
    for (const c of [asia, us]) {
      const available = await eventually(async () => {
        const got = await c.client.getArtifact({ id });
        return got.artifact?.state === ArtifactState.AVAILABLE ? got.artifact : undefined;
      });
      expect(available.bytesHeld).toBe(BigInt(content.length));
      expect(Buffer.compare(await pull(c.client, id), content)).toBe(0);
    }
  });

  it('serves FetchChunks over the Connect protocol too, the same sealed chunks', async () => {
    const { europe, us } = f.centers;
    const content = randomContent(1024 * 1024 + 17);
    const pushed = await europe.client.pushArtifact(upload('2.1', [], content));
    const id = pushed.artifact?.id ?? '';
    await eventually(async () => {
      const got = await us.client.getArtifact({ id });
      return got.artifact?.state === ArtifactState.AVAILABLE ? got.artifact : undefined;
    });
    const chunker = new Chunker();
    const chunks = [...chunker.push(content), ...chunker.finish()];
    const digests = chunks.map((c) => sha256(c));
    const manifest = await verifyManifest(
      JSON.parse(await readFile(f.manifestFile, 'utf8')),
      f.root.publicKey,
    );
    const url = `http://127.0.0.1:${europe.syncPort}`;
    const hs = await initiateHandshake({
      manifest,
      self: { id: 'us', signingKey: us.key },
      peerId: 'europe',
    });
    const session = await hs.complete(
      await createGrpcClient(SyncService, url).handshake(hs.request),
    );
    const ask = session
      .sender('fetch-chunks')
      .seal(toBinary(FetchChunksPlaintextSchema, create(FetchChunksPlaintextSchema, { digests })), {
        final: true,
      });
    const receiver = session.receiver('fetch-chunks');
    const received: Uint8Array[] = [];
    // HTTP/1.1 and the Connect protocol: served by Connect from the same sealed pieces.
    const connect = createConnectClient(SyncService, url);
    for await (const res of connect.fetchChunks({ sessionId: session.id, frame: ask })) {
      const opened = fromBinary(ChunksPlaintextSchema, receiver.open(res.frame).plaintext);
      for (const chunk of opened.chunks) received.push(chunk.data);
    }
    expect(received.length).toBe(chunks.length);
    expect(Buffer.compare(Buffer.concat(received), content)).toBe(0);
  });

  it('refuses a chunk that does not match its digest with DATA_LOSS', async () => {
    const digest = new Uint8Array(32).fill(7);
    await expect(
      f.centers.asia.registry.chunks.receive(digest, new Uint8Array([1, 2, 3])).recorded,
    ).rejects.toMatchObject({
      code: 'data_loss',
    });
  });

  it('keeps an EU-only artifact and its findings out of asia and us', async () => {
    const { asia, europe, us } = f.centers;
    const euContent = randomContent(200_000);
    const pushed = await europe.client.pushArtifact(upload('eu-only', ['EU'], euContent));
    const id = pushed.artifact?.id ?? '';
    const { finding } = await europe.client.createFinding({
      artifactIds: [id],
      title: 'EU eyes only',
      severity: Severity.LOW,
    });
    // A marker created afterwards shows the later events have arrived everywhere.
    const marker = await europe.client.createFinding({
      artifactIds: [
        (await europe.client.listArtifacts({ product: 'agent' })).artifacts.at(-1)?.id ?? '',
      ],
      title: 'marker',
      severity: Severity.INFO,
    });
    for (const c of [asia, us]) {
      await eventually(() => c.client.getFinding({ id: marker.finding?.id ?? '' }));
      expect(await codeOf(c.client.getFinding({ id: finding?.id ?? '' }))).toBe('NOT_FOUND');
      expect(await codeOf(c.client.getArtifact({ id }))).toBe('NOT_FOUND');
    }
    // Not one chunk of it in their stores, and europe refuses to send one if asked.
    const chunker = new Chunker();
    const euChunks = [...chunker.push(euContent), ...chunker.finish()];
    const digests = euChunks.map((c) => sha256(c));
    expect(digests.length).toBeGreaterThan(0);
    for (const c of [europe, asia, us]) {
      const storeDir = join(c.registry.config.dataDir, 'chunks');
      const found = await Promise.all(euChunks.map((chunk) => findStoredBytes(storeDir, chunk)));
      expect(found.filter((f) => f.length > 0).length).toBe(c === europe ? euChunks.length : 0);
    }
    const manifest = await verifyManifest(
      JSON.parse(await readFile(f.manifestFile, 'utf8')),
      f.root.publicKey,
    );
    const sync = createGrpcClient(SyncService, `http://127.0.0.1:${europe.syncPort}`);
    const hs = await initiateHandshake({
      manifest,
      self: { id: 'us', signingKey: us.key },
      peerId: 'europe',
    });
    const session = await hs.complete(await sync.handshake(hs.request));
    const ask = session
      .sender('fetch-chunks')
      .seal(toBinary(FetchChunksPlaintextSchema, create(FetchChunksPlaintextSchema, { digests })), {
        final: true,
      });
    const drain = async () => {
      for await (const _ of sync.fetchChunks({
        sessionId: session.id,
        frame: ask,
      })) {
      }
    };
    expect(await codeOf(drain())).toBe('PERMISSION_DENIED');
  });

  it('converges after a center was cut off while the others kept editing', async () => {
    const { asia, europe, us } = f.centers;
    const base = await europe.client.listFindings({ status: FindingStatus.TRIAGED });
    const fid = base.findings[0]?.id ?? '';
    await us.stopSync();
    await europe.client.addComment({ findingId: fid, text: 'while us was away (europe)' });
    await asia.client.addComment({ findingId: fid, text: 'while us was away (asia)' });
    await us.client.addComment({ findingId: fid, text: 'while cut off (us)' });
    await us.startSync();
    const settled = async (c: typeof asia) => {
      const got = await c.client.getFinding({ id: fid });
      return got.comments.length === 4 ? got : undefined;
    };
    const views = await Promise.all([asia, europe, us].map((c) => eventually(() => settled(c))));
    const texts = views.map((v) => v.comments.map((c) => c.text).sort());
    expect(texts[0]).toEqual(texts[1]);
    expect(texts[1]).toEqual(texts[2]);
    // asia and us may hold the same events (europe also holds EU-only ones): same state.
    const digests = async () => {
      const [a, u] = await Promise.all(
        [asia.registry.replica, us.registry.replica].map((r) => r.stateDigest()),
      );
      return a === u ? a : undefined;
    };
    const agreed = await eventually(digests);
    expect(agreed).toMatch(/^[0-9a-f]{64}$/);
    expect(await europe.registry.replica.stateDigest()).not.toBe(agreed);
  });

  it('refuses peers the manifest does not know, impostors, and unknown or replayed sessions', async () => {
    const { europe, us } = f.centers;
    const sync = createGrpcClient(SyncService, `http://127.0.0.1:${europe.syncPort}`);
    const manifest = await verifyManifest(
      JSON.parse(await readFile(f.manifestFile, 'utf8')),
      f.root.publicKey,
    );
    // Claims to be us but holds another key: it can only sign by a manifest of its own making.
    const impostorKey = await generateSigningKeyPair();
    const forgedRoot = await generateSigningKeyPair();
    const doc = JSON.parse(manifest.text);
    for (const c of doc.centers) {
      if (c.id === 'us') c.signingKey = Buffer.from(impostorKey.publicKey).toString('base64');
    }
    const forged = await verifyManifest(await signManifest(doc, forgedRoot), forgedRoot.publicKey);
    const impostor = await initiateHandshake({
      manifest: forged,
      self: { id: 'us', signingKey: impostorKey },
      peerId: 'europe',
    });
    expect(await codeOf(sync.handshake(impostor.request))).toBe('UNAUTHENTICATED');
    expect(await codeOf(sync.handshake({ ...impostor.request, centerId: 'mars' }))).toBe(
      'UNAUTHENTICATED',
    );

    const honest = await initiateHandshake({
      manifest,
      self: { id: 'us', signingKey: us.key },
      peerId: 'europe',
    });
    const session = await honest.complete(await sync.handshake(honest.request));
    const first = session
      .sender('subscribe')
      .seal(toBinary(SubscribePlaintextSchema, create(SubscribePlaintextSchema, {})), {
        final: true,
      });
    const tampered = first.slice();
    tampered[tampered.length - 1] ^= 1;
    const drain = async (ciphertext: Uint8Array, sessionId = session.id) => {
      for await (const _ of sync.subscribe({ sessionId, frame: ciphertext })) break;
    };
    expect(await codeOf(drain(tampered))).toBe('DATA_LOSS');
    // The session was spent by that attempt: replaying its frame finds no session.
    expect(await codeOf(drain(first))).toBe('UNAUTHENTICATED');
    expect(await codeOf(drain(first, 'f'.repeat(32)))).toBe('UNAUTHENTICATED');

    // A stream without its first frame, and a chunk request over the limit, are malformed.
    const bare = async () => {
      for await (const _ of sync.subscribe({})) break;
    };
    expect(await codeOf(bare())).toBe('INVALID_ARGUMENT');
    const again = await initiateHandshake({
      manifest,
      self: { id: 'us', signingKey: us.key },
      peerId: 'europe',
    });
    const chunkSession = await again.complete(await sync.handshake(again.request));
    const tooMany = create(FetchChunksPlaintextSchema, {
      digests: Array.from({ length: 1025 }, () => new Uint8Array(32)),
    });
    const ask = chunkSession
      .sender('fetch-chunks')
      .seal(toBinary(FetchChunksPlaintextSchema, tooMany), { final: true });
    const fetchAll = async () => {
      for await (const _ of sync.fetchChunks({
        sessionId: chunkSession.id,
        frame: ask,
      })) {
      }
    };
    expect(await codeOf(fetchAll())).toBe('INVALID_ARGUMENT');
    // More bases than chunks asked for, a base run over the limit, or gaps past what a
    // number holds: malformed too.
    const fetchWith = async (bases: MessageInitShape<typeof ChunkBaseSchema>[]) => {
      const handshake = await initiateHandshake({
        manifest,
        self: { id: 'us', signingKey: us.key },
        peerId: 'europe',
      });
      const session = await handshake.complete(await sync.handshake(handshake.request));
      const request = create(FetchChunksPlaintextSchema, { digests: [new Uint8Array(32)], bases });
      const ciphertext = session
        .sender('fetch-chunks')
        .seal(toBinary(FetchChunksPlaintextSchema, request), { final: true });
      for await (const _ of sync.fetchChunks({ sessionId: session.id, frame: ciphertext })) {
      }
    };
    const digest = new Uint8Array(32);
    expect(await codeOf(fetchWith([{ run: [digest] }, { run: [digest] }]))).toBe(
      'INVALID_ARGUMENT',
    );
    const longRun = Array.from({ length: MAX_BASE_RUN + 1 }, () => digest);
    expect(await codeOf(fetchWith([{ run: longRun }]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(fetchWith([{ run: [digest], startGap: 1n << 60n }]))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
