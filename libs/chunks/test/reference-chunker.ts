import { type ChunkerParams, resolveChunkerParams } from '../src/chunker-params.js';
import { GEAR_TABLE_32 } from '../src/gear-table.js';

/**
 * A deliberately naive statement of vitrine's boundary rule over a whole buffer, used to
 * cross-check the streaming chunker: at each candidate end it recomputes the gear hash of
 * the 32-byte window from scratch, `sum(GEAR[b[i - k]] << k) mod 2^32`, instead of rolling it.
 */
export function referenceChunkLengths(data: Uint8Array, params: Partial<ChunkerParams> = {}) {
  const p = resolveChunkerParams(params);
  const lengths: number[] = [];
  let start = 0;
  while (start < data.length) {
    let len = p.minSize;
    for (; len < p.maxSize && start + len <= data.length; len++) {
      const mask = len < p.avgSize ? p.maskSmall : p.maskLarge;
      if ((windowHash(data, start + len - 1) & mask) === 0) break;
    }
    len = Math.min(len, data.length - start);
    lengths.push(len);
    start += len;
  }
  return lengths;
}

/** The gear hash of the 32 bytes ending at index `end`. */
function windowHash(data: Uint8Array, end: number): number {
  let h = 0;
  for (let k = 31; k >= 0; k--) h = ((h << 1) + (GEAR_TABLE_32[data[end - k] ?? 0] ?? 0)) | 0;
  return h;
}
