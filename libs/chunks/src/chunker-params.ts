import { FieldViolations } from '@vitrine/errors';

/**
 * Sizes that shape content-defined chunking. They are part of the stored format just like
 * the gear table: two centers share chunks of an artifact only if they cut it with the same
 * parameters, so vitrine uses the defaults everywhere and other values are for tests and
 * experiments.
 */
export interface ChunkerParams {
  /** No boundary is placed before this many bytes (FastCDC's cut-point skipping). */
  readonly minSize: number;
  /** Target mean chunk size; rounded to a power of two to derive the masks. */
  readonly avgSize: number;
  /** A chunk that reaches this size is cut regardless of content; bounds buffered memory. */
  readonly maxSize: number;
  /**
   * FastCDC normalization level (0–3): before `avgSize` the mask has this many more bits
   * (cuts are rarer), after it this many fewer (cuts are likelier), which pulls chunk sizes
   * towards the average. Level 2 is the paper's recommendation.
   */
  readonly normalization: number;
}

/** vitrine's chunking format: 16 KiB / 64 KiB / 256 KiB with normalization level 2. */
export const DEFAULT_CHUNKER_PARAMS: ChunkerParams = Object.freeze({
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
  normalization: 2,
});

/** Bytes of the gear window: a 32-bit gear hash depends on exactly the last 32 bytes. */
export const GEAR_WINDOW = 32;

/**
 * Largest chunk size accepted; the chunker keeps one buffer of `maxSize` bytes. It also keeps
 * mask widths (at most log2(avgSize) + 3 = 29 bits) within the 32-bit hash.
 */
const MAX_MAX_SIZE = 64 * 1024 * 1024;

/** Parameters checked and turned into what the scanning loop needs. */
export interface ResolvedChunkerParams extends ChunkerParams {
  /** Chunk offset where the hash starts rolling, one window before the first cut point. */
  readonly warmStart: number;
  /** Mask tested while the chunk is shorter than `avgSize` (high bits of the 32-bit hash). */
  readonly maskSmall: number;
  /** Mask tested from `avgSize` on. */
  readonly maskLarge: number;
}

/** Validates `params` over the defaults; throws `invalid_argument` naming each bad field. */
export function resolveChunkerParams(params: Partial<ChunkerParams> = {}): ResolvedChunkerParams {
  const p = { ...DEFAULT_CHUNKER_PARAMS, ...params };
  const bits = Math.round(Math.log2(p.avgSize));
  const v = new FieldViolations();
  v.check(isSize(p.minSize) && p.minSize >= 2 * GEAR_WINDOW, 'minSize', 'must be an integer ≥ 64');
  v.check(isSize(p.avgSize) && p.avgSize >= p.minSize, 'avgSize', 'must be an integer ≥ minSize');
  v.check(
    isSize(p.maxSize) && p.maxSize >= p.avgSize && p.maxSize <= MAX_MAX_SIZE,
    'maxSize',
    `must be an integer between avgSize and ${MAX_MAX_SIZE}`,
  );
  v.check(
    Number.isInteger(p.normalization) && p.normalization >= 0 && p.normalization <= 3,
    'normalization',
    'must be an integer from 0 to 3',
  );
  v.throwIfAny('chunker params');
  return Object.freeze({
    ...p,
    warmStart: p.minSize - GEAR_WINDOW,
    maskSmall: highBits(bits + p.normalization),
    maskLarge: highBits(bits - p.normalization),
  });
}

/** A mask of the top `n` bits of a 32-bit integer, as a signed int32. */
function highBits(n: number): number {
  return (~0 << (32 - n)) | 0;
}

/** True for a positive safe integer. */
function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}
