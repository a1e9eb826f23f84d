import { toHex } from '@vitrine/crypto';
import { describe, expect, it } from 'vitest';
import { alignBases, type ChunkBase, MAX_BASE_RUN } from '../src/chunk-replica/chunk-bases.js';

/** Chunk number `n` (a distinct 32-byte digest) of `size` bytes (1000 unless given). */
const c = (n: number, size = 1000) => ({ digest: new Uint8Array(32).fill(n), size });
const short = (digest: Uint8Array) => toHex(digest).slice(0, 2);
/** `new → run@startGap/endGap`, by the digests' first byte in hex. */
const named = (bases: Map<string, ChunkBase>) =>
  Object.fromEntries(
    [...bases].map(([hex, b]) => [
      hex.slice(0, 2),
      `${b.run.map(short).join('+')}@${b.startGap}/${b.endGap}`,
    ]),
  );

describe('alignBases', () => {
  it('names the run of old chunks between the chunks both versions share', () => {
    // 1 2 3 4 5 → 1 2 9 4 5: chunk 3 was edited.
    const edited = alignBases([c(1), c(2), c(3), c(4), c(5)], [c(1), c(2), c(9, 1200), c(4), c(5)]);
    expect(named(edited)).toEqual({ '09': '03@0/0' });
  });

  it("gives each chunk of a longer run its offsets from the run's start and end", () => {
    // 1 2 3 4 → 1 7 8 9 4: the edit in 2 moved the cuts of 2 and 3.
    const shifted = alignBases(
      [c(1), c(2), c(3), c(4)],
      [c(1), c(7, 500), c(8, 800), c(9, 900), c(4)],
    );
    expect(named(shifted)).toEqual({
      '07': '02+03@0/1700',
      '08': '02+03@500/900',
      '09': '02+03@1300/0',
    });
  });

  it('aligns a run at either end of the list, and offers nothing where no old chunk stood', () => {
    expect(named(alignBases([c(1), c(2)], [c(7), c(2), c(8), c(9)]))).toEqual({ '07': '01@0/0' });
    expect(alignBases([], [c(1)]).size).toBe(0);
  });

  it('offers nothing for a run longer than a chunk base may be (a rewrite, not an edit)', () => {
    const old = Array.from({ length: MAX_BASE_RUN + 1 }, (_, i) => c(i + 1));
    const rewritten = Array.from({ length: MAX_BASE_RUN + 1 }, (_, i) => c(i + 100));
    expect(alignBases(old, rewritten).size).toBe(0);
  });
});
