/**
 * The gear table behind FastCDC's rolling hash. Chunk boundaries are part of vitrine's stored
 * and replicated format (two centers must cut the same artifact the same way to share
 * chunks), so this table is fixed forever: changing the seed or the generator re-chunks every
 * artifact and breaks deduplication across versions and centers. A regression vector in
 * `test/fixtures/fastcdc-vectors.json` pins it.
 */

/**
 * Seed of the table: the ASCII bytes `vitrine` followed by 0x01 (format version 1), read as
 * a big-endian 64-bit integer.
 */
export const GEAR_SEED = 0x76697472696e6501n;

const MASK64 = (1n << 64n) - 1n;

/**
 * SplitMix64 (Steele, Lea, Flood 2014; the reference `splitmix64.c` by Vigna): a tiny,
 * well-specified generator whose outputs are easy to reproduce in any language. Exported so
 * the generator itself can be checked against its published outputs.
 */
export function splitMix64(seed: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  let state = seed & MASK64;
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    out.push(z ^ (z >> 31n));
  }
  return out;
}

/** The 256 64-bit gear values: the first 256 SplitMix64 outputs from {@link GEAR_SEED}. */
export const GEAR_TABLE_64: readonly bigint[] = Object.freeze(splitMix64(GEAR_SEED, 256));

/**
 * The table the hot loop uses: the high 32 bits of each 64-bit entry, as signed 32-bit
 * integers so every step of the gear hash stays in V8's int32 fast path.
 *
 * Why 32 bits: an exact 64-bit gear in JavaScript needs two 32-bit halves and a branch-free
 * carry per byte, several times slower than the 32-bit gear here
 * (docs/decisions/0009-chunker-hot-loop.md) — and the chunker is on the hot path of every
 * upload. With 32 bits, `h = (h << 1) + G[b]` wraps
 * modulo 2^32, so the hash after any byte is exactly a function of the last 32 bytes (older
 * bytes have been shifted out), and boundary masks test its high bits, which are the ones
 * that depend on the whole 32-byte window. Integer shifts and wrapping adds are defined
 * bit-for-bit by the language, so boundaries are identical on every platform.
 */
export const GEAR_TABLE_32: Int32Array = Int32Array.from(GEAR_TABLE_64, (v) =>
  Number(BigInt.asIntN(32, v >> 32n)),
);
