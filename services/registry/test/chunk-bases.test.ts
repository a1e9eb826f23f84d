import { toHex } from '@vitrine/crypto';
import { describe, expect, it } from 'vitest';
import { alignBases, type ChunkBases } from '../src/chunk-bases.js';

/** Chunk digest number `n` (a distinct 32-byte value). */
const d = (n: number) => new Uint8Array(32).fill(n);
const short = (digest: Uint8Array | undefined) => (digest ? toHex(digest).slice(0, 2) : '-');
/** `new → front/back`, by the digests' first byte in hex. */
const named = (bases: Map<string, ChunkBases>) =>
  Object.fromEntries(
    [...bases].map(([hex, { front, back }]) => [hex.slice(0, 2), `${short(front)}/${short(back)}`]),
  );

describe('alignBases', () => {
  it('pairs a changed chunk with the one it replaced, between the chunks both versions share', () => {
    // 1 2 3 4 5 → 1 2 9 4 5: chunk 3 was edited.
    const edited = alignBases([d(1), d(2), d(3), d(4), d(5)], [d(1), d(2), d(9), d(4), d(5)]);
    expect(named(edited)).toEqual({ '09': '03/03' });
  });

  it('pairs the halves of a split chunk with its start and its end', () => {
    // 1 2 3 4 → 1 8 9 4: chunk 2 and 3 became 8 and 9; or 1 2 3 → 1 7 8 3: 2 split in two.
    expect(named(alignBases([d(1), d(2), d(3), d(4)], [d(1), d(8), d(9), d(4)]))).toEqual({
      '08': '02/02',
      '09': '03/03',
    });
    expect(named(alignBases([d(1), d(2), d(3)], [d(1), d(7), d(8), d(3)]))).toEqual({
      '07': '02/-',
      '08': '-/02',
    });
  });

  it('pairs a chunk that merged two with the first for its start and the second for its end', () => {
    expect(named(alignBases([d(1), d(2), d(3), d(4)], [d(1), d(9), d(4)]))).toEqual({
      '09': '02/03',
    });
  });

  it('aligns a run at either end of the list, and offers nothing where no old chunk stood', () => {
    expect(named(alignBases([d(1), d(2)], [d(7), d(2), d(8), d(9)]))).toEqual({ '07': '01/01' });
    expect(alignBases([], [d(1)]).size).toBe(0);
  });
});
