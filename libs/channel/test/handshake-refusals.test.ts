import { signDetached } from '@vitrine/crypto';
import type { InvalidArgumentError } from '@vitrine/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDSHAKE_DOMAIN, transcript1 } from '../src/handshake-transcript.js';
import {
  HandshakeReplays,
  type HandshakeRequest,
  type HandshakeResponse,
  initiateHandshake,
  type RandomSource,
  respondToHandshake,
} from '../src/index.js';
import {
  answerHandshake,
  flipped,
  forgedManifest,
  member,
  startHandshake,
  type TestCenter,
  type TestFederation,
  testCenters,
  testFederation,
} from './federation-fixture.js';

// Every refusal here is what a member, an outsider or a machine in the middle could try.
let fed: TestFederation;
let asia: TestCenter;
let europe: TestCenter;
let us: TestCenter;
beforeAll(async () => {
  fed = await testFederation();
  [asia, europe, us] = [member(fed, 'asia'), member(fed, 'europe'), member(fed, 'us')];
});

/** asia starts a handshake with europe. */
const asiaToEurope = (random?: RandomSource) => startHandshake(fed, 'asia', 'europe', random);

/** europe answers `request`. */
const europeAnswers = (request: HandshakeRequest, random?: RandomSource) =>
  answerHandshake(fed, 'europe', request, random);

describe('the responder', () => {
  it('refuses a center the manifest does not list as "unknown center"', async () => {
    const [mars] = Object.values(await testCenters(['mars'])) as [TestCenter];
    const manifest = await forgedManifest({ mars, europe });
    const pending = await initiateHandshake({ manifest, self: mars.identity, peerId: 'europe' });
    await expect(europeAnswers(pending.request)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: 'unknown center',
    });
  });

  it.each(['a key of its own', "us's own key"])(
    'refuses an initiator claiming asia while signing with %s',
    async (which) => {
      const keys =
        which === "us's own key"
          ? us.keys
          : (Object.values(await testCenters(['x'])) as [TestCenter])[0].keys;
      const fakeAsia: TestCenter = {
        id: 'asia',
        keys,
        identity: { id: 'asia', signingKey: keys.signing },
      };
      const manifest = await forgedManifest({ asia: fakeAsia, europe });
      const pending = await initiateHandshake({
        manifest,
        self: fakeAsia.identity,
        peerId: 'europe',
      });
      await expect(europeAnswers(pending.request)).rejects.toMatchObject({
        code: 'unauthenticated',
      });
    },
  );

  it('refuses a request meant for another center', async () => {
    const pending = await asiaToEurope();
    const misrouted = respondToHandshake({
      manifest: fed.manifest,
      self: us.identity,
      request: pending.request,
      replays: new HandshakeReplays(),
    });
    await expect(misrouted).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it.each([
    ['ephemeralKey', (r: HandshakeRequest) => ({ ...r, ephemeralKey: flipped(r.ephemeralKey) })],
    ['nonce', (r: HandshakeRequest) => ({ ...r, nonce: flipped(r.nonce, 31) })],
    ['signature', (r: HandshakeRequest) => ({ ...r, signature: flipped(r.signature, 5) })],
    ['centerId', (r: HandshakeRequest) => ({ ...r, centerId: 'us' })],
  ])('refuses a request with a tampered %s as unauthenticated', async (_field, tamper) => {
    const pending = await asiaToEurope();
    await expect(europeAnswers(tamper(pending.request))).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('refuses a member whose signed ephemeral key is a low-order point', async () => {
    const nonce = new Uint8Array(32).fill(7);
    const ephemeralKey = new Uint8Array(32);
    // Made and answered at one injected moment: only the key can be what is refused.
    const at = Date.parse('2026-03-02T09:00:00Z');
    const timestampMs = BigInt(at);
    const t1 = transcript1({
      initiatorId: 'asia',
      responderId: 'europe',
      ephemeralKey,
      nonce,
      timestampMs,
    });
    const signature = await signDetached(asia.keys.signing, HANDSHAKE_DOMAIN, t1);
    const request = { centerId: 'asia', ephemeralKey, nonce, timestampMs, signature };
    await expect(
      answerHandshake(fed, 'europe', request, undefined, new HandshakeReplays(), () => at),
    ).rejects.toMatchObject({
      code: 'unauthenticated',
      message: 'handshake rejected',
    });
  });

  it('refuses a malformed request as invalid_argument naming each field', async () => {
    const bad = {
      centerId: '',
      ephemeralKey: new Uint8Array(31),
      nonce: new Uint8Array(32),
      signature: new Uint8Array(0),
      timestampMs: BigInt(Date.parse('2026-03-02T09:00:00Z')),
    };
    const err = (await europeAnswers(bad).catch((e: unknown) => e)) as InvalidArgumentError;
    expect(err.code).toBe('invalid_argument');
    expect(err.violations.map((v) => v.field)).toEqual(['center_id', 'ephemeral_key', 'signature']);
  });
});

describe('the initiator', () => {
  it('refuses a response signed with a third center’s key', async () => {
    const pending = await asiaToEurope();
    const fakeEurope: TestCenter = {
      id: 'europe',
      keys: us.keys,
      identity: { id: 'europe', signingKey: us.keys.signing },
    };
    const manifest = await forgedManifest({ asia, europe: fakeEurope });
    const { response } = await respondToHandshake({
      manifest,
      self: fakeEurope.identity,
      request: pending.request,
      replays: new HandshakeReplays(),
    });
    await expect(pending.complete(response)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it.each([
    ['centerId', (r: HandshakeResponse) => ({ ...r, centerId: 'us' })],
    ['ephemeralKey', (r: HandshakeResponse) => ({ ...r, ephemeralKey: flipped(r.ephemeralKey) })],
    ['nonce', (r: HandshakeResponse) => ({ ...r, nonce: flipped(r.nonce) })],
    ['signature', (r: HandshakeResponse) => ({ ...r, signature: flipped(r.signature, 63) })],
    [
      'sessionId',
      (r: HandshakeResponse) => ({
        ...r,
        sessionId: `${r.sessionId.slice(0, 31)}${r.sessionId.endsWith('0') ? '1' : '0'}`,
      }),
    ],
  ])('refuses a response with a tampered %s as unauthenticated', async (_field, tamper) => {
    const pending = await asiaToEurope();
    const { response } = await europeAnswers(pending.request);
    await expect(pending.complete(tamper(response))).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('refuses a response to an earlier handshake', async () => {
    const earlier = await asiaToEurope();
    const { response } = await europeAnswers(earlier.request);
    const pending = await asiaToEurope();
    await expect(pending.complete(response)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses a malformed response as invalid_argument naming each field', async () => {
    const pending = await asiaToEurope();
    const { response } = await europeAnswers(pending.request);
    const err = (await pending
      .complete({ ...response, nonce: new Uint8Array(8), sessionId: 'ABC' })
      .catch((e: unknown) => e)) as InvalidArgumentError;
    expect(err.code).toBe('invalid_argument');
    expect(err.violations.map((v) => v.field)).toEqual(['nonce', 'session_id']);
  });
});
