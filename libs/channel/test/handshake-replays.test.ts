import { beforeAll, describe, expect, it } from 'vitest';
import {
  HANDSHAKE_SKEW_MS,
  HandshakeReplays,
  type HandshakeRequest,
  initiateHandshake,
} from '../src/index.js';
import {
  answerHandshake,
  flipped,
  member,
  type TestFederation,
  testFederation,
} from './federation-fixture.js';

// A captured handshake request must not buy a second answer, now or later.
let fed: TestFederation;
beforeAll(async () => {
  fed = await testFederation();
});

const T0 = Date.UTC(2026, 0, 1);

/** asia's request to europe, made at `at` on asia's clock. */
async function requestAt(at: number): Promise<HandshakeRequest> {
  const pending = await initiateHandshake({
    manifest: fed.manifest,
    self: member(fed, 'asia').identity,
    peerId: 'europe',
    now: () => at,
  });
  return pending.request;
}

/** europe answers `request` at `at` on its clock, remembering nonces in `replays`. */
function answerAt(request: HandshakeRequest, at: number, replays: HandshakeReplays) {
  return answerHandshake(fed, 'europe', request, undefined, replays, () => at);
}

describe('handshake freshness', () => {
  it('answers a request once, and refuses it replayed as unauthenticated', async () => {
    const replays = new HandshakeReplays();
    const request = await requestAt(T0);
    await expect(answerAt(request, T0 + 10, replays)).resolves.toHaveProperty('session');
    await expect(answerAt(request, T0 + 20, replays)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: 'handshake request replayed',
    });
  });

  it('refuses a replay before verifying its signature', async () => {
    const replays = new HandshakeReplays();
    const request = await requestAt(T0);
    await answerAt(request, T0, replays);
    const forged = { ...request, signature: flipped(request.signature, 3) };
    await expect(answerAt(forged, T0, replays)).rejects.toMatchObject({
      message: 'handshake request replayed',
    });
  });

  it('answers only one of two copies sent at once', async () => {
    const replays = new HandshakeReplays();
    const request = await requestAt(T0);
    const outcomes = await Promise.allSettled([
      answerAt(request, T0, replays),
      answerAt(request, T0, replays),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it.each([
    ['stale', -(HANDSHAKE_SKEW_MS + 1)],
    ['from the future', HANDSHAKE_SKEW_MS + 1],
  ])('refuses a request %s as unauthenticated', async (_what, offset) => {
    const request = await requestAt(T0 + offset);
    await expect(answerAt(request, T0, new HandshakeReplays())).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/^handshake request is not fresh/),
    });
  });

  it('accepts a request at the edges of the window', async () => {
    for (const offset of [-HANDSHAKE_SKEW_MS, HANDSHAKE_SKEW_MS]) {
      const request = await requestAt(T0 + offset);
      await expect(answerAt(request, T0, new HandshakeReplays())).resolves.toHaveProperty(
        'response',
      );
    }
  });

  it('refuses a captured request replayed after the window, once its nonce is forgotten', async () => {
    const replays = new HandshakeReplays({ capacity: 1 });
    const request = await requestAt(T0);
    await answerAt(request, T0, replays);
    const later = T0 + 2 * HANDSHAKE_SKEW_MS + 1;
    // A new request makes room by forgetting the expired nonce ...
    await answerAt(await requestAt(later), later, replays);
    // ... and the old one is refused for its timestamp.
    await expect(answerAt(request, later, replays)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/not fresh/),
    });
  });

  it('does not remember the nonce of a request whose signature fails', async () => {
    const replays = new HandshakeReplays();
    const request = await requestAt(T0);
    const forged = { ...request, signature: flipped(request.signature, 3) };
    await expect(answerAt(forged, T0, replays)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(answerAt(request, T0, replays)).resolves.toHaveProperty('session');
  });

  it('refuses new handshakes as resource_exhausted while the cache is full of live nonces', async () => {
    const replays = new HandshakeReplays({ capacity: 2 });
    await answerAt(await requestAt(T0), T0, replays);
    await answerAt(await requestAt(T0), T0, replays);
    await expect(answerAt(await requestAt(T0), T0 + 1, replays)).rejects.toMatchObject({
      code: 'resource_exhausted',
    });
  });

  it('refuses a timestamp that is no time at all', async () => {
    const request = { ...(await requestAt(T0)), timestampMs: 2n ** 62n };
    await expect(answerAt(request, T0, new HandshakeReplays())).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/not fresh/),
    });
  });
});
