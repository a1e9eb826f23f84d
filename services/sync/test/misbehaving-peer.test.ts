import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type CenterKeys,
  type FederationManifest,
  generateCenterKeys,
  HandshakeReplays,
  respondToHandshake,
  signManifest,
  verifyManifest,
} from '@vitrine/channel';
import { generateSigningKeyPair, sha256 } from '@vitrine/crypto';
import { isVitrineError } from '@vitrine/errors';
import {
  ChunksPlaintextSchema,
  FetchChunksPlaintextSchema,
  file_vitrine_sync_v1_sync,
  SyncService,
} from '@vitrine/proto/sync';
import { createGrpcClient, createLogger, type RunningServer, startServer } from '@vitrine/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Federation } from '../src/federation.js';
import { type FetchedChunk, fetchChunksFrom } from '../src/peer-chunks.js';
import { FETCH_CHUNKS_STREAM } from '../src/service.js';
import { SessionTable } from '../src/sessions.js';

/**
 * A peer that completes the handshake like any member of the federation and then answers a
 * FetchChunks request with whatever frames `answer` makes of the digests asked.
 */
async function misbehavingPeer(
  manifest: FederationManifest,
  keys: CenterKeys,
  answer: (digests: Uint8Array[]) => Uint8Array[],
): Promise<RunningServer> {
  const self = { id: 'europe', signingKey: keys.signing };
  const sessions = new SessionTable();
  const replays = new HandshakeReplays();
  return startServer({
    port: 0,
    files: [file_vitrine_sync_v1_sync],
    healthServices: [],
    logger: createLogger('peer', { VITRINE_LOG_LEVEL: 'silent' }),
    routes: (router) =>
      router.service(SyncService, {
        async handshake(request) {
          const { response, session } = await respondToHandshake({
            manifest,
            self,
            request,
            replays,
          });
          sessions.add(session);
          return response;
        },
        async *fetchChunks(req) {
          const session = sessions.take(req.sessionId);
          const opened = session.receiver(FETCH_CHUNKS_STREAM).open(req.frame);
          const { digests } = fromBinary(FetchChunksPlaintextSchema, opened.plaintext);
          const sender = session.sender(FETCH_CHUNKS_STREAM);
          for (const plaintext of answer(digests)) {
            yield { frame: sender.seal(plaintext) };
          }
        },
      }),
  });
}

describe('a peer answering FetchChunks out of protocol', () => {
  let manifest: FederationManifest;
  let us: CenterKeys;
  let europe: CenterKeys;
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    [us, europe] = await Promise.all([generateCenterKeys(), generateCenterKeys()]);
    const root = await generateSigningKeyPair();
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const center = (id: string, jurisdiction: string, keys: CenterKeys, port: number) => ({
      id,
      jurisdiction,
      registry: `http://127.0.0.1:${port}`,
      sync: `http://127.0.0.1:${port + 1}`,
      signingKey: b64(keys.signing.publicKey),
      kxKey: b64(keys.kx.publicKey),
    });
    const document = {
      version: 1 as const,
      federation: 'vitrine-test',
      issuedAt: '2026-01-15T09:30:00.000Z',
      centers: [center('europe', 'EU', europe, 7100), center('us', 'US', us, 7110)],
      access: {
        url: 'http://127.0.0.1:7000',
        tokenKeys: [{ keyId: 'k1', publicKey: b64((await generateSigningKeyPair()).publicKey) }],
      },
    };
    manifest = await verifyManifest(await signManifest(document, root), root.publicKey);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** What `us` gets asking the peer for two chunks: its answers and the error it ends with. */
  async function fetchFrom(answer: (digests: Uint8Array[]) => Uint8Array[]) {
    const server = await misbehavingPeer(manifest, europe, answer);
    servers.push(server);
    const federation = {
      manifest,
      self: { id: 'us', signingKey: us.signing },
    } as unknown as Federation;
    const peer = manifest.center('europe');
    if (!peer) throw new Error('europe is not in the test manifest');
    const client = createGrpcClient(SyncService, server.url);
    const digests = [sha256(new Uint8Array([1])), sha256(new Uint8Array([2]))];
    const signal = new AbortController().signal;
    const received: FetchedChunk[] = [];
    try {
      for await (const answer of fetchChunksFrom(federation, peer, client, digests, signal)) {
        received.push(answer);
      }
      return { received, error: undefined };
    } catch (error) {
      return { received, error };
    }
  }

  const frame = (
    chunks: { digest: Uint8Array; missing?: boolean; patch?: boolean; data?: Uint8Array }[],
  ) => toBinary(ChunksPlaintextSchema, create(ChunksPlaintextSchema, { chunks }));
  const bytesOf = (fill: number) => Buffer.alloc(256 * 1024, fill);

  it('frees a frame once every chunk of it is done and the stream has moved past it', async () => {
    const { received, error } = await fetchFrom((digests) => [
      frame(digests.map((digest, i) => ({ digest, data: bytesOf(i + 1) }))),
    ]);
    expect(error).toBeUndefined();
    const [first, second] = received;
    if (!first || !second) throw new Error('expected two answers');
    expect(first.digest).toEqual(sha256(new Uint8Array([1])));
    first.done();
    // `second` still holds the frame both chunks are views into.
    expect(first.chunk.data).toEqual(bytesOf(1));
    expect(second.chunk.data).toEqual(bytesOf(2));
    second.done();
    expect(first.chunk.data.byteLength).toBe(0);
    expect(second.chunk.data.byteLength).toBe(0);
    // The digest asked for is the caller's own, not a view into the frame.
    expect(second.digest).toEqual(sha256(new Uint8Array([2])));
  });

  it('keeps a frame while it is read, and while a chunk of it is held after the stream fails', async () => {
    const digests = [1, 2, 3].map((n) => sha256(new Uint8Array([n])));
    const server = await misbehavingPeer(manifest, europe, () => [
      frame([
        { digest: digests[0] as Uint8Array, data: bytesOf(1) },
        { digest: digests[1] as Uint8Array, data: bytesOf(2) },
        { digest: sha256(new Uint8Array([9])), data: bytesOf(9) },
      ]),
    ]);
    servers.push(server);
    const federation = { manifest, self: { id: 'us', signingKey: us.signing } };
    const peer = manifest.center('europe');
    if (!peer) throw new Error('europe is not in the test manifest');
    const answers: FetchedChunk[] = [];
    const fetching = (async () => {
      for await (const answer of fetchChunksFrom(
        federation as unknown as Federation,
        peer,
        createGrpcClient(SyncService, server.url),
        digests,
        new AbortController().signal,
      )) {
        // The first is done at once, while its frame is still being read.
        if (answers.length === 0) answer.done();
        answers.push(answer);
      }
    })();
    await expect(fetching).rejects.toMatchObject({ code: 'data_loss' });
    const [first, second] = answers;
    if (!first || !second) throw new Error('expected two answers before the stream failed');
    expect(first.chunk.data).toEqual(bytesOf(1));
    expect(second.chunk.data).toEqual(bytesOf(2));
    second.done();
    expect(first.chunk.data.byteLength).toBe(0);
  });

  it('answers as asked: every chunk, in order, several to a frame', async () => {
    const { received, error } = await fetchFrom((digests) => [
      frame(digests.map((digest) => ({ digest, missing: true }))),
    ]);
    expect(error).toBeUndefined();
    expect(received).toHaveLength(2);
  });

  it('refuses an empty frame with DATA_LOSS', async () => {
    const { error } = await fetchFrom(() => [frame([])]);
    expect(isVitrineError(error, 'data_loss')).toBe(true);
    expect((error as Error).message).toBe('europe sent an empty frame');
  });

  it('refuses a chunk not asked for at that place with DATA_LOSS', async () => {
    const { received, error } = await fetchFrom((digests) => [
      frame([...digests].reverse().map((digest) => ({ digest, missing: true }))),
    ]);
    expect(received).toHaveLength(0);
    expect(isVitrineError(error, 'data_loss')).toBe(true);
  });

  it('refuses a patch of a chunk it named no base for with DATA_LOSS', async () => {
    const { received, error } = await fetchFrom((digests) => [
      frame(digests.map((digest) => ({ digest, patch: true }))),
    ]);
    expect(received).toHaveLength(0);
    expect(isVitrineError(error, 'data_loss')).toBe(true);
    expect((error as Error).message).toBe(
      'europe sent a patch of a chunk it was given no base for',
    );
  });

  it('refuses a stream that ends before every chunk is answered with DATA_LOSS', async () => {
    const { received, error } = await fetchFrom((digests) => [
      frame(digests.slice(0, 1).map((digest) => ({ digest, missing: true }))),
    ]);
    expect(received).toHaveLength(1);
    expect(isVitrineError(error, 'data_loss')).toBe(true);
    expect((error as Error).message).toBe('europe answered 1 of 2 chunks asked');
  });
});
