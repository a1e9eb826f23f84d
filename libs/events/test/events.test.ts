import { create } from '@bufbuild/protobuf';
import { generateSigningKeyPair, sha256 } from '@vitrine/crypto';
import { EventBodySchema } from '@vitrine/proto/event';
import { describe, expect, it } from 'vitest';
import {
  assertChained,
  hlcToDate,
  nextHlc,
  openEvent,
  openEvents,
  packHlc,
  type SealedEvent,
  sealEvent,
} from '../src/index.js';

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
  const body = create(EventBodySchema, {
    actor: 'operator',
    change: {
      case: 'commentAdded',
      value: { findingId: 'europe-1', commentId: 'europe-2', text: 'x' },
    },
  });
  const fields = {
    origin: 'europe',
    seq: 2n,
    hlc: 5n,
    prevDigest: new Uint8Array(),
    residency: ['EU'],
  };

  it('round-trips through seal and open, with or without the body', async () => {
    const key = await generateSigningKeyPair();
    const sealed = await sealEvent(fields, body, key);
    const keys = (origin: string) => (origin === 'europe' ? key.publicKey : undefined);
    const opened = await openEvent(sealed.headerBytes, sealed.signature, sealed.bodyBytes, keys);
    expect(opened.body?.change).toMatchObject(body.change);
    expect(opened.header.residency).toEqual(['EU']);
    expect(opened.digest).toEqual(sha256(sealed.headerBytes));
    const headerOnly = await openEvent(sealed.headerBytes, sealed.signature, undefined, keys);
    expect(headerOnly.body).toBeUndefined();
    expect(headerOnly.digest).toEqual(opened.digest);
  });

  it('refuses a tampered header or body, a foreign key and an unknown origin with DATA_LOSS', async () => {
    const key = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const sealed = await sealEvent(fields, body, key);
    const keys = (origin: string) => (origin === 'europe' ? key.publicKey : undefined);
    const flip = (bytes: Uint8Array | undefined) => {
      const copy = new Uint8Array(bytes ?? []);
      copy[copy.length - 1] ^= 1;
      return copy;
    };
    const outcomes = await Promise.all([
      openEvent(flip(sealed.headerBytes), sealed.signature, sealed.bodyBytes, keys).catch(
        (e) => e.code,
      ),
      openEvent(sealed.headerBytes, sealed.signature, flip(sealed.bodyBytes), keys).catch(
        (e) => e.code,
      ),
      openEvent(
        sealed.headerBytes,
        sealed.signature,
        sealed.bodyBytes,
        () => other.publicKey,
      ).catch((e) => e.code),
      openEvent(sealed.headerBytes, sealed.signature, sealed.bodyBytes, () => undefined).catch(
        (e) => e.code,
      ),
      openEvent(new Uint8Array([0xff, 0xff]), sealed.signature, undefined, keys).catch(
        (e) => e.code,
      ),
    ]);
    expect(outcomes).toEqual(['data_loss', 'data_loss', 'data_loss', 'data_loss', 'data_loss']);
  });

  it('verifies a copy of a held event again only when its header or signature differs', async () => {
    const key = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const sealed = await sealEvent(fields, body, key);
    const held = { digest: sealed.digest, signature: sealed.signature };
    // The key no longer matters for a byte-identical copy: the held one was verified.
    const wrongKey = () => other.publicKey;
    const copy = await openEvent(
      sealed.headerBytes,
      sealed.signature,
      sealed.bodyBytes,
      wrongKey,
      held,
    );
    expect(copy.digest).toEqual(sealed.digest);
    const forged = new Uint8Array(sealed.signature);
    forged[0] ^= 1;
    const tamperedBody = new Uint8Array(sealed.bodyBytes ?? []);
    tamperedBody[tamperedBody.length - 1] ^= 1;
    const sibling = await sealEvent({ ...fields, hlc: 6n }, body, key);
    const keys = () => key.publicKey;
    const outcomes = await Promise.all([
      openEvent(sealed.headerBytes, forged, sealed.bodyBytes, keys, held).catch((e) => e.code),
      openEvent(sealed.headerBytes, sealed.signature, tamperedBody, keys, held).catch(
        (e) => e.code,
      ),
      openEvent(sibling.headerBytes, sibling.signature, sibling.bodyBytes, wrongKey, held).catch(
        (e) => e.code,
      ),
    ]);
    expect(outcomes).toEqual(['data_loss', 'data_loss', 'data_loss']);
  });

  it('detects a broken hash chain', async () => {
    const key = await generateSigningKeyPair();
    const first = await sealEvent({ ...fields, seq: 1n }, body, key);
    const second = await sealEvent({ ...fields, prevDigest: first.digest }, body, key);
    expect(() => assertChained(second.header, first.digest)).not.toThrow();
    expect(() => assertChained(second.header, sha256(new Uint8Array([1])))).toThrowError(
      expect.objectContaining({ code: 'data_loss' }),
    );
  });

  describe('a batch', () => {
    /** `count` chained events of `origin`, signed with `key`. */
    async function chain(count: number, key: { publicKey: Uint8Array; secretKey: Uint8Array }) {
      const events: SealedEvent[] = [];
      let prevDigest: Uint8Array = new Uint8Array();
      for (let seq = 1n; seq <= BigInt(count); seq++) {
        const sealed = await sealEvent({ ...fields, seq, hlc: seq, prevDigest }, body, key);
        events.push(sealed);
        prevDigest = sealed.digest;
      }
      return events;
    }
    const received = (e: SealedEvent, change: Partial<Record<'signature', Uint8Array>> = {}) => ({
      headerBytes: e.headerBytes,
      signature: change.signature ?? e.signature,
      bodyBytes: e.bodyBytes,
    });
    const garbled = (bytes: Uint8Array) => bytes.map((x, i) => (i === 0 ? x ^ 1 : x));

    it('opens a chained run in order, each event whole', async () => {
      const key = await generateSigningKeyPair();
      const events = await chain(5, key);
      const { opened, refusal } = await openEvents(
        events.map((e) => received(e)),
        () => key.publicKey,
      );
      expect(refusal).toBeUndefined();
      expect(opened.map((e) => e.header.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
      expect(opened.map((e) => e.digest)).toEqual(events.map((e) => e.digest));
      expect(opened.every((e) => e.body?.actor === 'operator')).toBe(true);
    });

    it("checks the signature of a run's last event, and refuses the batch there when forged", async () => {
      const key = await generateSigningKeyPair();
      const events = await chain(4, key);
      const last = events[3] as SealedEvent;
      const batch = [
        ...events.slice(0, 3).map((e) => received(e)),
        received(last, { signature: garbled(last.signature) }),
      ];
      const { opened, refusal } = await openEvents(batch, () => key.publicKey);
      // Each earlier event then answers for itself, and each is genuinely signed.
      expect(opened.map((e) => e.header.seq)).toEqual([1n, 2n, 3n]);
      expect(refusal).toMatchObject({ code: 'data_loss' });
    });

    it('vouches for an event through the chain to a signed successor, never for an altered one', async () => {
      const key = await generateSigningKeyPair();
      const other = await generateSigningKeyPair();
      const events = await chain(3, key);
      const [first, second, third] = events as [SealedEvent, SealedEvent, SealedEvent];
      // The second's own signature is not needed: the third, signed, names its header.
      const vouched = await openEvents(
        [
          received(first),
          received(second, { signature: garbled(second.signature) }),
          received(third),
        ],
        () => key.publicKey,
      );
      expect(vouched.refusal).toBeUndefined();
      expect(vouched.opened).toHaveLength(3);
      // An altered header no longer links, so its own (now wrong) signature is checked.
      const headerBytes = second.headerBytes.slice();
      headerBytes[headerBytes.length - 1] ^= 1;
      const altered = await openEvents(
        [received(first), { ...received(second), headerBytes }, received(third)],
        () => key.publicKey,
      );
      expect(altered.opened.map((e) => e.header.seq)).toEqual([1n]);
      expect(altered.refusal).toMatchObject({ code: 'data_loss' });
      // A chain signed by a key other than the origin's vouches for nothing.
      const foreign = await openEvents(
        events.map((e) => received(e)),
        () => other.publicKey,
      );
      expect(foreign.opened).toEqual([]);
      expect(foreign.refusal).toMatchObject({ code: 'data_loss' });
    });

    it('stops at an undecodable header or a body that does not match, keeping what came before', async () => {
      const key = await generateSigningKeyPair();
      const events = await chain(3, key);
      const [first, second, third] = events as [SealedEvent, SealedEvent, SealedEvent];
      const junk = await openEvents(
        [
          received(first),
          { ...received(second), headerBytes: new Uint8Array([0xff, 0xff]) },
          received(third),
        ],
        () => key.publicKey,
      );
      expect(junk.opened.map((e) => e.header.seq)).toEqual([1n]);
      expect(junk.refusal).toMatchObject({ code: 'data_loss' });
      const bodyBytes = (second.bodyBytes ?? new Uint8Array()).slice();
      bodyBytes[bodyBytes.length - 1] ^= 1;
      const tampered = await openEvents(
        [received(first), { ...received(second), bodyBytes }, received(third)],
        () => key.publicKey,
      );
      expect(tampered.opened.map((e) => e.header.seq)).toEqual([1n]);
      expect(tampered.refusal).toMatchObject({ code: 'data_loss' });
    });
  });
});
