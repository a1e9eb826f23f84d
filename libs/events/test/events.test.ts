import { create } from '@bufbuild/protobuf';
import { generateSigningKeyPair, sha256 } from '@vitrine/crypto';
import { EventSchema } from '@vitrine/proto/event';
import { describe, expect, it } from 'vitest';
import { assertChained, hlcToDate, nextHlc, openEvent, packHlc, sealEvent } from '../src/index.js';

describe('hybrid logical clock', () => {
  it('follows the wall clock and stays monotonic when it stalls or goes back', () => {
    const t0 = packHlc(1_000, 0);
    expect(nextHlc(t0, 2_000)).toBe(packHlc(2_000, 0));
    expect(nextHlc(t0, 1_000)).toBe(packHlc(1_000, 1));
    expect(nextHlc(packHlc(5_000, 7), 1_000)).toBe(packHlc(5_000, 8));
    expect(nextHlc(packHlc(5_000, 0xffff), 1_000)).toBe(packHlc(5_001, 0));
    expect(hlcToDate(packHlc(1_700_000_000_000, 3)).toISOString()).toBe('2023-11-14T22:13:20.000Z');
  });
});

describe('signed events', () => {
  const body = {
    case: 'commentAdded' as const,
    value: { findingId: 'europe-1', commentId: 'europe-2', text: 'x' },
  };

  it('round-trips through seal and open, and refuses tampering or a foreign key', async () => {
    const key = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const event = create(EventSchema, { origin: 'europe', seq: 2n, hlc: 5n, body });
    const sealed = await sealEvent(event, key);
    const keys = (origin: string) => (origin === 'europe' ? key.publicKey : undefined);
    const opened = await openEvent(sealed.bytes, sealed.signature, keys);
    expect(opened.event.body).toMatchObject(body);
    expect(opened.digest).toEqual(sha256(sealed.bytes));

    const tampered = sealed.bytes.slice();
    tampered[tampered.length - 1] ^= 1;
    const outcomes = await Promise.all([
      openEvent(tampered, sealed.signature, keys).catch((e) => e.code),
      openEvent(sealed.bytes, sealed.signature, () => other.publicKey).catch((e) => e.code),
      openEvent(sealed.bytes, sealed.signature, () => undefined).catch((e) => e.code),
      openEvent(new Uint8Array([0xff, 0xff]), sealed.signature, keys).catch((e) => e.code),
    ]);
    expect(outcomes).toEqual(['data_loss', 'data_loss', 'data_loss', 'data_loss']);
  });

  it('detects a broken hash chain', async () => {
    const key = await generateSigningKeyPair();
    const first = await sealEvent(create(EventSchema, { origin: 'us', seq: 1n, body }), key);
    const second = create(EventSchema, { origin: 'us', seq: 2n, prevDigest: first.digest, body });
    expect(() => assertChained(second, first.digest)).not.toThrow();
    expect(() => assertChained(second, sha256(new Uint8Array([1])))).toThrowError(
      expect.objectContaining({ code: 'data_loss' }),
    );
  });
});
