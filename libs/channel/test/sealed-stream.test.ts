import { randomBytes } from 'node:crypto';
import { loadSodium } from '@vitrine/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../src/index.js';
import { SealedReceiver, SealedSender } from '../src/sealed-stream.js';
import { sessionPair, type TestFederation, testFederation } from './federation-fixture.js';

const MiB = 1024 * 1024;
const REJECTED = { code: 'data_loss', message: 'sealed frame rejected' };

let fed: TestFederation;
beforeAll(async () => {
  fed = await testFederation();
});

/** A fresh asia → europe session, as each side holds it. */
async function sessions(): Promise<{ asia: Session; europe: Session }> {
  const { initiator, responder } = await sessionPair(fed);
  return { asia: initiator, europe: responder };
}

/** `count` frames of 32 bytes each on `label` from asia, the last one final. */
async function stream(count: number, label = 'subscribe:1') {
  const pair = await sessions();
  const sender = pair.asia.sender(label);
  const plaintexts = Array.from({ length: count }, () => randomBytes(32));
  const frames = plaintexts.map((p, i) => sender.seal(p, { final: i === count - 1 }));
  return { ...pair, plaintexts, frames, receiver: pair.europe.receiver(label) };
}

/** The per-stream key as documented: BLAKE2b-256(key = direction key, domain ‖ label). */
async function documentedStreamKey(directionKey: Uint8Array, label: string): Promise<Uint8Array> {
  const sodium = await loadSodium();
  return sodium.crypto_generichash(32, `vitrine/sealed-stream/v1\n${label}`, directionKey);
}

describe('a sealed stream', () => {
  it('carries many frames, empty and 4 MiB ones included, in both directions', async () => {
    const { asia, europe } = await sessions();
    const sizes = [0, 1, 15, 16, 17, 4096, 65_536, 0, 4 * MiB, 100, 0];
    for (const [from, to] of [
      [asia, europe],
      [europe, asia],
    ] as const) {
      const sender = from.sender('fetch:1');
      const receiver = to.receiver('fetch:1');
      sizes.forEach((size, i) => {
        const plaintext = randomBytes(size);
        const frame = sender.seal(plaintext, { final: i === sizes.length - 1 });
        expect(frame).toHaveLength(size + 17);
        const opened = receiver.open(frame);
        expect(Buffer.compare(opened.plaintext, plaintext)).toBe(0);
        expect(opened.final).toBe(i === sizes.length - 1);
      });
      receiver.assertEnded();
    }
  });

  it('frames exactly as documented: flags ‖ RFC 8439 AEAD under the counter nonce (libsodium agrees)', async () => {
    const sodium = await loadSodium();
    const { asia } = await sessions();
    const key = await documentedStreamKey(asia.sendKey, 'subscribe:9');
    const sender = asia.sender('subscribe:9');
    for (let counter = 0; counter < 3; counter++) {
      const flags = counter === 2 ? 1 : 0;
      const plaintext = randomBytes(counter * 40);
      const nonce = Buffer.alloc(12);
      nonce.writeBigUInt64BE(BigInt(counter), 4);
      const aad = Buffer.concat([nonce.subarray(4), Buffer.from([flags])]);
      const sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
        plaintext,
        aad,
        null,
        nonce,
        key,
      );
      const expected = Buffer.concat([Buffer.from([flags]), sealed]);
      expect(Buffer.from(sender.seal(plaintext, { final: flags === 1 })).toString('hex')).toBe(
        expected.toString('hex'),
      );
    }
  });

  it('seals a plaintext given in parts exactly as the parts joined', async () => {
    const { asia } = await sessions();
    const key = await documentedStreamKey(asia.sendKey, 'fetch:7');
    const [joined, inParts] = [new SealedSender(key), new SealedSender(key)];
    const layouts = [[], [0], [3, 0, 65_536, 1], [17, 4096]];
    for (const [i, sizes] of layouts.entries()) {
      const parts = sizes.map((size) => randomBytes(size));
      const final = i === layouts.length - 1;
      const expected = joined.seal(Buffer.concat(parts), { final });
      expect(Buffer.compare(inParts.seal(parts, { final }), expected)).toBe(0);
    }
  });

  it('seals a frame as pieces that join to the frame seal makes, and opens in turn', async () => {
    const { asia } = await sessions();
    const key = await documentedStreamKey(asia.sendKey, 'fetch:8');
    const [whole, pieces] = [new SealedSender(key), new SealedSender(key)];
    const receiver = new SealedReceiver(key);
    const layouts = [[65_536, 3, 0, 1], [], [4096]];
    for (const [i, sizes] of layouts.entries()) {
      const parts = sizes.map((size) => randomBytes(size));
      const final = i === layouts.length - 1;
      const sealed = pieces.sealPieces(parts, { final });
      // flags byte, a ciphertext per part, the tag
      expect(sealed.map((p) => p.length)).toEqual([1, ...sizes, 16]);
      const frame = Buffer.concat(sealed);
      expect(Buffer.compare(frame, whole.seal(parts, { final }))).toBe(0);
      expect(Buffer.from(receiver.open(frame).plaintext).equals(Buffer.concat(parts))).toBe(true);
    }
    receiver.assertEnded();
    expect(() => pieces.sealPieces([])).toThrow(
      expect.objectContaining({ code: 'failed_precondition' }),
    );
  });

  it.each([
    ['flags byte', 0],
    ['ciphertext', 20],
    ['tag', -1],
  ])('rejects a frame with an altered %s, and everything after it', async (_part, at) => {
    const { frames, receiver } = await stream(3);
    const altered = new Uint8Array(frames[0] as Uint8Array);
    const index = at < 0 ? altered.length + at : at;
    altered[index] = (altered[index] ?? 0) ^ 0x01;
    expect(() => receiver.open(altered)).toThrow(expect.objectContaining(REJECTED));
    expect(() => receiver.open(frames[0] as Uint8Array)).toThrow(expect.objectContaining(REJECTED));
    expect(() => receiver.assertEnded()).toThrow(expect.objectContaining({ code: 'data_loss' }));
  });

  it('rejects a replayed frame', async () => {
    const { frames, receiver } = await stream(3);
    receiver.open(frames[0] as Uint8Array);
    expect(() => receiver.open(frames[0] as Uint8Array)).toThrow(expect.objectContaining(REJECTED));
  });

  it('rejects swapped frames', async () => {
    const { frames, receiver } = await stream(3);
    expect(() => receiver.open(frames[1] as Uint8Array)).toThrow(expect.objectContaining(REJECTED));
    expect(() => receiver.open(frames[0] as Uint8Array)).toThrow(expect.objectContaining(REJECTED));
  });

  it('rejects the frame after a dropped one', async () => {
    const { frames, receiver } = await stream(3);
    receiver.open(frames[0] as Uint8Array);
    expect(() => receiver.open(frames[2] as Uint8Array)).toThrow(expect.objectContaining(REJECTED));
  });

  it('rejects a frame of another stream of the same session', async () => {
    const { frames, europe } = await stream(2, 'subscribe:1');
    expect(() => europe.receiver('subscribe:2').open(frames[0] as Uint8Array)).toThrow(
      expect.objectContaining(REJECTED),
    );
  });

  it('rejects a frame reflected back to its sender', async () => {
    const { frames, asia } = await stream(2, 'subscribe:1');
    expect(() => asia.receiver('subscribe:1').open(frames[0] as Uint8Array)).toThrow(
      expect.objectContaining(REJECTED),
    );
  });

  it('rejects a frame from an earlier session of the same centers', async () => {
    const earlier = await stream(2, 'subscribe:1');
    const later = await sessions();
    expect(later.asia.id).not.toBe(earlier.asia.id);
    const receiver = later.europe.receiver('subscribe:1');
    expect(() => receiver.open(earlier.frames[0] as Uint8Array)).toThrow(
      expect.objectContaining(REJECTED),
    );
  });

  it('rejects frames too short to hold a tag, unknown flags and non-bytes', async () => {
    const { frames, europe } = await stream(1, 'a');
    const withFlag2 = new Uint8Array(frames[0] as Uint8Array);
    withFlag2[0] = 0x02;
    for (const [i, frame] of [
      new Uint8Array(16),
      withFlag2,
      'frame' as unknown as Uint8Array,
    ].entries()) {
      expect(() => europe.receiver(`b${i}`).open(frame)).toThrow(expect.objectContaining(REJECTED));
    }
  });

  it('takes a stream that stops without its final frame as truncated', async () => {
    const { frames, receiver } = await stream(3);
    receiver.open(frames[0] as Uint8Array);
    receiver.open(frames[1] as Uint8Array);
    expect(() => receiver.assertEnded()).toThrow(
      expect.objectContaining({
        code: 'data_loss',
        message: 'sealed stream ended without its final frame',
      }),
    );
    expect(() => receiver.open(frames[2] as Uint8Array)).toThrow(expect.objectContaining(REJECTED));
  });

  it('refuses frames after the final one, even genuinely sealed ones', async () => {
    const { asia, frames, receiver } = await stream(2, 'subscribe:1');
    receiver.open(frames[0] as Uint8Array);
    expect(receiver.open(frames[1] as Uint8Array).final).toBe(true);
    const next = new SealedSender(await documentedStreamKey(asia.sendKey, 'subscribe:1'), 2n).seal(
      randomBytes(8),
    );
    expect(() => receiver.open(next)).toThrow(expect.objectContaining(REJECTED));
    expect(() => receiver.assertEnded()).toThrow(expect.objectContaining(REJECTED));
  });

  it('will not seal after the final frame', async () => {
    const { asia } = await sessions();
    const sender = asia.sender('x');
    sender.seal(new Uint8Array(0), { final: true });
    expect(() => sender.seal(new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'failed_precondition' }),
    );
  });
});

describe('stream labels', () => {
  it('give one sender and one receiver per label and direction', async () => {
    const { asia } = await sessions();
    asia.sender('subscribe:1');
    asia.receiver('subscribe:1');
    expect(() => asia.sender('subscribe:1')).toThrow(
      expect.objectContaining({ code: 'failed_precondition' }),
    );
    expect(() => asia.receiver('subscribe:1')).toThrow(
      expect.objectContaining({ code: 'failed_precondition' }),
    );
  });

  it.each(['', 'has space', 'x'.repeat(129), 'naïve'])('refuse the label %j', async (label) => {
    const { asia } = await sessions();
    expect(() => asia.sender(label)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});

describe('the frame counter', () => {
  const last = (1n << 63n) - 1n;

  it('seals and opens frame 2^63 - 1 and nothing after it', async () => {
    const key = randomBytes(32);
    const sender = new SealedSender(key, last);
    const receiver = new SealedReceiver(key, last);
    expect(receiver.open(sender.seal(Buffer.from('last'))).plaintext.toString()).toBe('last');
    expect(() => sender.seal(Buffer.from('wrap'))).toThrow(
      expect.objectContaining({ code: 'failed_precondition' }),
    );
  });

  it('refuses to open frame 2^63 even when it is genuinely sealed', async () => {
    const sodium = await loadSodium();
    const key = randomBytes(32);
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(last + 1n, 4);
    const aad = Buffer.concat([nonce.subarray(4), Buffer.from([0])]);
    const sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
      new Uint8Array(0),
      aad,
      null,
      nonce,
      key,
    );
    const frame = Buffer.concat([Buffer.from([0]), sealed]);
    expect(() => new SealedReceiver(key, last + 1n).open(frame)).toThrow(
      expect.objectContaining(REJECTED),
    );
  });
});
