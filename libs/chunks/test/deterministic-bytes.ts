export { deterministicBytes } from '@vitrine/testing';

/** A seeded generator of integers in [lo, hi] (xorshift32) for reproducible piece sizes. */
export function seededInts(seed: number): (lo: number, hi: number) => number {
  let s = seed | 0 || 1;
  return (lo, hi) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) % (hi - lo + 1));
  };
}

/** Splits `data` into consecutive pieces whose sizes come from `size()`. */
export function splitInto(data: Uint8Array, size: () => number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let off = 0; off < data.length; ) {
    const n = Math.max(1, size());
    pieces.push(data.subarray(off, off + n));
    off += n;
  }
  return pieces;
}
