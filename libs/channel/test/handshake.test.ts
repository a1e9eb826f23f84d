import { generateSigningKeyPair, loadSodium, sha256 } from '@vitrine/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDSHAKE_DOMAIN } from '../src/handshake-transcript.js';
import { type HandshakeRequest, initiateHandshake, type RandomSource } from '../src/index.js';
import {
  answerHandshake,
  member,
  startHandshake,
  type TestCenter,
  type TestFederation,
  testFederation,
} from './federation-fixture.js';

let fed: TestFederation;
let asia: TestCenter;
let europe: TestCenter;
beforeAll(async () => {
  fed = await testFederation();
  [asia, europe] = [member(fed, 'asia'), member(fed, 'europe')];
});

/** asia starts a handshake with europe. */
const asiaToEurope = (random?: RandomSource) => startHandshake(fed, 'asia', 'europe', random);

/** europe answers `request`. */
const europeAnswers = (request: HandshakeRequest, random?: RandomSource) =>
  answerHandshake(fed, 'europe', request, random);

describe('a handshake between two members', () => {
  it('gives both sides one session with crossed, distinct keys', async () => {
    const pending = await asiaToEurope();
    const { response, session: responder } = await europeAnswers(pending.request);
    const initiator = await pending.complete(response);
    expect(initiator.sendKey).toEqual(responder.receiveKey);
    expect(initiator.receiveKey).toEqual(responder.sendKey);
    expect(initiator.sendKey).not.toEqual(initiator.receiveKey);
    expect(initiator.id).toBe(responder.id);
    expect(initiator.id).toMatch(/^[0-9a-f]{32}$/);
    expect([initiator.role, initiator.peerId]).toEqual(['initiator', 'europe']);
    expect([responder.role, responder.peerId]).toEqual(['responder', 'asia']);
  });

  it('derives exactly the documented transcript, signatures and keys', async () => {
    const sodium = await loadSodium();
    const draws = Array.from({ length: 5 }, (_, i) => sha256(new Uint8Array([i])));
    const sizes: number[] = [];
    const random: RandomSource = (n) => {
      sizes.push(n);
      return (draws.shift() as Uint8Array).slice(0, n);
    };
    const [seedI, nonceI, seedR, nonceR, sid] = draws.map((d) => d.slice());
    const pending = await asiaToEurope(random);
    const { response, session: responder } = await europeAnswers(pending.request, random);
    const initiator = await pending.complete(response);
    expect(sizes).toEqual([32, 32, 32, 32, 16]);

    const ephI = sodium.crypto_kx_seed_keypair(seedI as Uint8Array);
    const ephR = sodium.crypto_kx_seed_keypair(seedR as Uint8Array);
    const lp = (...fields: Uint8Array[]) =>
      Buffer.concat(
        fields.flatMap((f) => [Buffer.from([0, 0, (f.length >> 8) & 0xff, f.length & 0xff]), f]),
      );
    const timestamp = Buffer.alloc(8);
    timestamp.writeBigInt64BE(pending.request.timestampMs);
    const t1 = Buffer.concat([
      Buffer.from(HANDSHAKE_DOMAIN),
      lp(
        Buffer.from('asia'),
        Buffer.from('europe'),
        ephI.publicKey,
        nonceI as Uint8Array,
        timestamp,
      ),
    ]);
    const t2 = Buffer.concat([
      t1,
      lp(ephR.publicKey, nonceR as Uint8Array, (sid as Uint8Array).slice(0, 16)),
    ]);
    expect(pending.request.ephemeralKey).toEqual(ephI.publicKey);
    expect(pending.request.signature).toEqual(
      sodium.crypto_sign_detached(t1, asia.keys.signing.secretKey),
    );
    expect(response.signature).toEqual(
      sodium.crypto_sign_detached(t2, europe.keys.signing.secretKey),
    );
    expect(response.sessionId).toBe(Buffer.from((sid as Uint8Array).slice(0, 16)).toString('hex'));

    const kx = sodium.crypto_kx_client_session_keys(
      ephI.publicKey,
      ephI.privateKey,
      ephR.publicKey,
    );
    const th = sha256(t2);
    expect(initiator.sendKey).toEqual(sodium.crypto_generichash(32, th, kx.sharedTx));
    expect(initiator.receiveKey).toEqual(sodium.crypto_generichash(32, th, kx.sharedRx));
    expect(responder.sendKey).toEqual(initiator.receiveKey);
  });

  it('makes fresh keys and a fresh id on every handshake of the same centers', async () => {
    const sessions = [];
    for (let i = 0; i < 2; i++) {
      const pending = await asiaToEurope();
      sessions.push(await pending.complete((await europeAnswers(pending.request)).response));
    }
    const [a, b] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    expect(a.id).not.toBe(b.id);
    expect(a.sendKey).not.toEqual(b.sendKey);
    expect(a.receiveKey).not.toEqual(b.receiveKey);
  });
});

describe('completing and starting', () => {
  it('completes once only, even after a refused response', async () => {
    const pending = await asiaToEurope();
    const { response } = await europeAnswers(pending.request);
    await expect(pending.complete({ ...response, centerId: 'us' })).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(pending.complete(response)).rejects.toMatchObject({ code: 'failed_precondition' });
  });

  it('refuses to start with a key the manifest does not name, an unknown peer or itself', async () => {
    const rogue = { id: 'asia', signingKey: await generateSigningKeyPair() };
    const starts = [
      initiateHandshake({ manifest: fed.manifest, self: rogue, peerId: 'europe' }),
      initiateHandshake({ manifest: fed.manifest, self: asia.identity, peerId: 'mars' }),
      initiateHandshake({ manifest: fed.manifest, self: asia.identity, peerId: 'asia' }),
    ];
    for (const start of starts)
      await expect(start).rejects.toMatchObject({ code: 'failed_precondition' });
  });
});
