import {
  type ChunkerParams,
  type ResolvedChunkerParams,
  resolveChunkerParams,
} from './chunker-params.js';
import { GEAR_TABLE_32 } from './gear-table.js';

/**
 * Streaming FastCDC (Xia et al., "FastCDC: a Fast and Efficient Content-Defined Chunking
 * Approach", USENIX ATC 2016, and the 2020 TPDS version): splits a byte stream where the
 * content says so, so an edited artifact shares all chunks but those around the edit with
 * its previous version.
 *
 * Boundary rule, per chunk (offsets from the chunk's first byte): the gear hash
 * `h = (h << 1) + GEAR[b]` (32-bit, see `gear-table.ts`) rolls from offset `minSize - 32`
 * on, so at every candidate it covers exactly the 32 bytes ending there; the chunk ends
 * after the byte at offset `o` when its length `o + 1` is at least `minSize` and
 * `h & mask === 0`, where the mask has the small-chunk (harder) form while the length is
 * below `avgSize` and the large-chunk (easier) form after (normalized chunking); a chunk
 * reaching `maxSize` is cut there. The last chunk of a stream is whatever remains.
 *
 * Feed pieces of any size with {@link push}; boundaries do not depend on how the input was
 * split. At most `maxSize` bytes are held between calls, and each returned chunk is a fresh
 * copy the caller owns.
 */
export class Chunker {
  /** The sizes in force, defaults filled in. */
  readonly params: ChunkerParams;
  readonly #p: ResolvedChunkerParams;
  readonly #buf: Uint8Array;
  /** Bytes of the current chunk held in #buf, i.e. the chunk offset of the next input byte. */
  #len = 0;
  /** Rolling hash, kept in a typed array so the scan loops can hand it back cheaply. */
  readonly #hash = new Int32Array(1);

  constructor(params?: Partial<ChunkerParams>) {
    this.#p = resolveChunkerParams(params);
    this.params = this.#p;
    this.#buf = new Uint8Array(this.#p.maxSize);
  }

  /** Adds the next piece of the stream; returns the chunks it completes, in order. */
  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let pos = 0;
    while (pos < data.length) {
      const cut = this.#findCut(data, pos);
      if (cut < 0) {
        this.#buf.set(data.subarray(pos), this.#len);
        this.#len += data.length - pos;
        break;
      }
      const chunk = new Uint8Array(this.#len + cut - pos);
      chunk.set(this.#buf.subarray(0, this.#len));
      chunk.set(data.subarray(pos, cut), this.#len);
      out.push(chunk);
      this.#reset();
      pos = cut;
    }
    return out;
  }

  /** Ends the stream: returns the final chunk, if any bytes remain, and readies for reuse. */
  finish(): Uint8Array[] {
    if (this.#len === 0) return [];
    const last = this.#buf.slice(0, this.#len);
    this.#reset();
    return [last];
  }

  #reset(): void {
    this.#len = 0;
    this.#hash[0] = 0;
  }

  /**
   * Continues the current chunk into `data[pos..]`; returns the index in `data` just past
   * the chunk's last byte, or -1 when the chunk goes on beyond `data`.
   */
  #findCut(data: Uint8Array, pos: number): number {
    const { warmStart, minSize, avgSize, maxSize, maskSmall, maskLarge } = this.#p;
    const base = pos - this.#len; // index in `data` of the chunk's offset 0 (may be negative)
    const end = Math.min(data.length, base + maxSize);
    let i = Math.max(pos, base + warmStart);
    const warmEnd = Math.min(end, base + minSize - 1);
    if (i < warmEnd) {
      gearRoll(data, i, warmEnd, this.#hash);
      i = warmEnd;
    }
    const smallEnd = Math.min(end, base + avgSize - 1);
    if (i < smallEnd) {
      const cut = gearScan(data, i, smallEnd, maskSmall, this.#hash);
      if (cut >= 0) return cut;
      i = smallEnd;
    }
    const largeEnd = Math.min(end, base + maxSize - 1);
    if (i < largeEnd) {
      const cut = gearScan(data, i, largeEnd, maskLarge, this.#hash);
      if (cut >= 0) return cut;
    }
    return end === base + maxSize ? end : -1;
  }
}

/** Rolls the gear hash in `state[0]` over `data[i..end)` without looking for boundaries. */
function gearRoll(data: Uint8Array, i: number, end: number, state: Int32Array): void {
  const g = GEAR_TABLE_32;
  let h = state[0];
  for (; i < end; i++) h = ((h << 1) + g[data[i]]) | 0;
  state[0] = h;
}

/** Bytes one call of {@link gearScanWindow} covers. */
const SCAN_WINDOW = 4096;

/**
 * Rolls the gear hash in `state[0]` over `data[i..end)`; returns the index just past the
 * first byte after which `hash & mask` is zero (the hash is then dropped: a new chunk
 * starts), or -1 if there is none.
 *
 * Scans in windows of 4 KiB: called often, the inner loop gets optimized whole, with type
 * feedback for every path, early on. Left to run over whole chunks it was optimized
 * mid-loop without feedback for its exits and bailed out at the exit, repeatedly, for the
 * first few hundred MiB.
 */
function gearScan(data: Uint8Array, i: number, end: number, mask: number, state: Int32Array) {
  for (; i < end; i += SCAN_WINDOW) {
    const cut = gearScanWindow(data, i, Math.min(end, i + SCAN_WINDOW), mask, state);
    if (cut >= 0) return cut;
  }
  return -1;
}

/**
 * {@link gearScan} over one window: the hot loop of every upload. The main loop is unrolled
 * 16 times by hand, faster on V8 than the plain loop or 8 times
 * (docs/decisions/0009-chunker-hot-loop.md). It only detects that a block of 16 bytes holds a boundary, then rewinds to
 * the block's start and lets the plain loop find it, so its exits do no arithmetic (16
 * `return i + k` exits each cost a deoptimization the first time they were taken).
 */
function gearScanWindow(
  data: Uint8Array,
  i: number,
  end: number,
  mask: number,
  state: Int32Array,
): number {
  const g = GEAR_TABLE_32;
  let h = state[0];
  let blockStart = h;
  const end16 = end - 15;
  for (; i < end16; i += 16) {
    blockStart = h;
    h = ((h << 1) + g[data[i]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 1]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 2]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 3]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 4]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 5]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 6]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 7]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 8]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 9]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 10]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 11]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 12]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 13]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 14]]) | 0;
    if ((h & mask) === 0) break;
    h = ((h << 1) + g[data[i + 15]]) | 0;
    if ((h & mask) === 0) break;
  }
  if (i < end16) h = blockStart; // the block at i holds a boundary: find it byte by byte
  for (; i < end; i++) {
    h = ((h << 1) + g[data[i]]) | 0;
    if ((h & mask) === 0) return i + 1;
  }
  state[0] = h;
  return -1;
}

/**
 * Chunks an async byte stream (a file read stream, an upload body). Large pieces are fed in
 * `maxSize` slices so memory stays bounded by about two chunks beyond the piece itself.
 */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array>,
  params?: Partial<ChunkerParams>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunker = new Chunker(params);
  const step = chunker.params.maxSize;
  for await (const piece of source) {
    for (let off = 0; off < piece.length; off += step) {
      yield* chunker.push(piece.subarray(off, off + step));
    }
  }
  yield* chunker.finish();
}
