import { toHex } from '@vitrine/crypto';
import { describe, expect, it } from 'vitest';
import { alignBases } from '../src/chunk-bases.js';

/** Chunk digest number `n` (a distinct 32-byte value). */
const d = (n: number) => new Uint8Array(32).fill(n);
const named = (bases: Map<string, Uint8Array>) =>
  Object.fromEntries([...bases].map(([hex, base]) => [hex.slice(0, 2), toHex(base).slice(0, 2)]));

describe('alignBases', () => {
  it('pairs a changed chunk with the one it replaced, counting from the last shared chunk', () => {
    // 1 2 3 4 5 → 1 2 9 4 5: chunk 3 was edited.
    expect(
      named(alignBases([d(1), d(2), d(3), d(4), d(5)], [d(1), d(2), d(9), d(4), d(5)])),
    ).toEqual({
      '09': '03',
    });
    // An edit that split chunk 3 in two: both halves are paired, in order after the anchor.
    expect(named(alignBases([d(1), d(2), d(3), d(4)], [d(1), d(2), d(8), d(9), d(4)]))).toEqual({
      '08': '03',
      '09': '04',
    });
  });

  it('pairs from the start when the first chunk changed, and offers nothing past the end', () => {
    expect(named(alignBases([d(1), d(2)], [d(7), d(2), d(8), d(9)]))).toEqual({ '07': '01' });
    expect(alignBases([], [d(1)]).size).toBe(0);
  });
});
