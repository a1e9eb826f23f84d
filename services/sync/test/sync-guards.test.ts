import { readFile } from 'node:fs/promises';
import type { FederationManifest } from '@vitrine/channel';
import { HANDSHAKE_SKEW_MS, initiateHandshake, verifyManifest } from '@vitrine/channel';
import { SyncService } from '@vitrine/proto/sync';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WAITING_PER_PEER } from '../src/sessions.js';
import { startTestFederation, syncClientOf, type TestFederation } from './federation-harness.js';

// What a sync port refuses to whoever reaches it: replayed or stale handshakes, endless
// sessions, status without an operator credential, malformed sealed requests. The
// handshake and status checks do not touch storage, so one backend is enough.
const [pglite] = testBackends();

describe('a sync service', () => {
  let f: TestFederation;
  let manifest: FederationManifest;
  let europeSync: ReturnType<typeof createGrpcClient<typeof SyncService>>;
  beforeAll(async () => {
    f = await startTestFederation(pglite as NonNullable<typeof pglite>);
    manifest = await verifyManifest(
      JSON.parse(await readFile(f.manifestFile, 'utf8')),
      f.root.publicKey,
    );
    europeSync = createGrpcClient(SyncService, `http://127.0.0.1:${f.centers.europe.syncPort}`);
  });
  afterAll(() => f.cleanup());

  /** us's handshake request to europe, made at `at` on us's clock. */
  const asUs = (at?: number) =>
    initiateHandshake({
      manifest,
      self: { id: 'us', signingKey: f.centers.us.key },
      peerId: 'europe',
      ...(at === undefined ? {} : { now: () => at }),
    });

  it('answers a handshake once; a captured copy replayed is UNAUTHENTICATED', async () => {
    const pending = await asUs();
    const session = await pending.complete(await europeSync.handshake(pending.request));
    expect(session.peerId).toBe('europe');
    const replayed = europeSync.handshake(pending.request);
    expect(await grpcCodeOf(replayed)).toBe('UNAUTHENTICATED');
    await expect(europeSync.handshake(pending.request)).rejects.toThrow(
      /handshake request replayed/,
    );
  });

  it('refuses a handshake made outside the clock-skew window as UNAUTHENTICATED', async () => {
    for (const offset of [-2 * HANDSHAKE_SKEW_MS, 2 * HANDSHAKE_SKEW_MS]) {
      const pending = await asUs(Date.now() + offset);
      await expect(europeSync.handshake(pending.request)).rejects.toThrow(/not fresh/);
      expect(await grpcCodeOf(europeSync.handshake(pending.request))).toBe('UNAUTHENTICATED');
    }
  });

  it('answers GetStatus to an operator only', async () => {
    const { europe } = f.centers;
    expect(await grpcCodeOf(europeSync.getStatus({}))).toBe('UNAUTHENTICATED');
    const trust = f.trust;
    if (!trust) throw new Error('the test federation has its own access side');
    const partner = await trust.partner({
      partner: 'acme',
      jurisdiction: 'EU',
      audience: ['europe'],
    });
    const { callAuthInterceptor } = await import('@vitrine/credentials');
    const asPartner = createGrpcClient(SyncService, `http://127.0.0.1:${europe.syncPort}`, {
      interceptors: [callAuthInterceptor(() => partner, 'europe')],
    });
    expect(await grpcCodeOf(asPartner.getStatus({}))).toBe('PERMISSION_DENIED');
    const status = await syncClientOf(f, europe).getStatus({});
    expect(status.centerId).toBe('europe');
    expect(status.peers.map((p) => p.centerId).sort()).toEqual(['asia', 'us']);
  });

  /** A fresh session with europe, as us. */
  const session = async () => {
    const pending = await asUs();
    return pending.complete(await europeSync.handshake(pending.request));
  };
  const drain = async (stream: AsyncIterable<unknown>) => {
    for await (const _ of stream) break;
  };

  it.each([
    ['that ends early', [0x0a, 0xff]],
    ['with invalid UTF-8 in a string', [0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28]],
  ])(
    'refuses a Subscribe frame, sealed right, whose plaintext does not decode (%s), as INVALID_ARGUMENT',
    async (_what, bytes) => {
      const s = await session();
      const frame = s.sender('subscribe').seal(new Uint8Array(bytes), { final: true });
      const subscribed = drain(europeSync.subscribe({ sessionId: s.id, frame }));
      expect(await grpcCodeOf(subscribed)).toBe('INVALID_ARGUMENT');
    },
  );

  it('refuses a FetchChunks frame, sealed right, whose plaintext does not decode, as INVALID_ARGUMENT', async () => {
    const s = await session();
    const frame = s.sender('fetch-chunks').seal(new Uint8Array([0x0a, 0xff]), { final: true });
    const fetched = drain(europeSync.fetchChunks({ sessionId: s.id, frame }));
    await expect(fetched).rejects.toThrow(/sealed frame does not hold a FetchChunksPlaintext/);
    const again = await session();
    const frame2 = again.sender('fetch-chunks').seal(new Uint8Array([0x0a, 0xff]), { final: true });
    expect(
      await grpcCodeOf(drain(europeSync.fetchChunks({ sessionId: again.id, frame: frame2 }))),
    ).toBe('INVALID_ARGUMENT');
  });

  it(`holds at most ${MAX_WAITING_PER_PEER} unused sessions per peer: RESOURCE_EXHAUSTED past that`, async () => {
    // us's own sync service would open sessions to europe meanwhile.
    await f.centers.us.stopSync();
    let accepted = 0;
    let refused = '';
    for (let i = 0; i <= MAX_WAITING_PER_PEER + 1 && refused === ''; i++) {
      const pending = await asUs();
      try {
        await europeSync.handshake(pending.request);
        accepted++;
      } catch (err) {
        refused = await grpcCodeOf(Promise.reject(err));
      }
    }
    expect(refused).toBe('RESOURCE_EXHAUSTED');
    expect(accepted).toBeLessThanOrEqual(MAX_WAITING_PER_PEER);
    // Another peer is not held back by us's sessions.
    const asia = await initiateHandshake({
      manifest,
      self: { id: 'asia', signingKey: f.centers.asia.key },
      peerId: 'europe',
    });
    await expect(europeSync.handshake(asia.request)).resolves.toHaveProperty('sessionId');
  });
});
