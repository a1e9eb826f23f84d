import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkIndex, type Location } from '../src/chunk-index.js';

/** A digest-like hex string whose first four bytes (its home slot) are `home`. */
function digestWithHome(home: number, seed: string): string {
  const bytes = createHash('sha256').update(seed).digest();
  bytes.writeUInt32BE(home, 0);
  return bytes.toString('hex');
}

/** A small deterministic generator (mulberry32): the same operations on every run. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const at = (n: number): Location => ({ pack: n % 7, offset: n * 70_000 + 2 ** 33, length: n });

describe('the chunk index', () => {
  it('agrees with a Map through random puts, moves and deletes, across growth', () => {
    const index = new ChunkIndex(16);
    const model = new Map<string, Location>();
    // Few distinct home slots, at both ends of the table whatever its size, so probe runs
    // are long and wrap around its end.
    const homes = [0, 1, 2, 3, 0xffff_ffff, 0xffff_fffe, 0xffff_fffd, 0xffff_fffc];
    const keys = Array.from({ length: 400 }, (_, i) =>
      digestWithHome(homes[i % homes.length] as number, `chunk ${i}`),
    );
    const next = mulberry32(1);
    for (let step = 0; step < 20_000; step++) {
      const key = keys[next() % keys.length] as string;
      if (next() % 3 === 0) {
        expect(index.delete(key)).toBe(model.delete(key));
      } else {
        const location = at(next() % 1000);
        index.set(key, location);
        model.set(key, location);
      }
      if (step % 97 === 0) {
        expect(index.size).toBe(model.size);
        for (const k of keys) expect(index.get(k)).toEqual(model.get(k));
      }
    }
    for (const k of keys) expect(index.has(k)).toBe(model.has(k));
  });

  it('tells apart digests that share their first bytes', () => {
    const index = new ChunkIndex();
    const a = randomBytes(32);
    const b = Buffer.from(a);
    b[31] = (b[31] ?? 0) ^ 1;
    index.set(a.toString('hex'), at(1));
    expect(index.has(b.toString('hex'))).toBe(false);
    index.set(b.toString('hex'), at(2));
    expect(index.get(a.toString('hex'))).toEqual(at(1));
    expect(index.get(b.toString('hex'))).toEqual(at(2));
    expect(index.delete(a.toString('hex'))).toBe(true);
    expect(index.get(b.toString('hex'))).toEqual(at(2));
    expect(index.size).toBe(1);
  });

  it('refuses a key that is not a SHA-256 digest in hex', () => {
    const index = new ChunkIndex();
    expect(() => index.has('abcd')).toThrow(RangeError);
    expect(() => index.set('zz'.repeat(32), at(1))).toThrow(RangeError);
  });
});
