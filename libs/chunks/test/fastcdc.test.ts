import { InvalidArgumentError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import { type ChunkerParams, DEFAULT_CHUNKER_PARAMS } from '../src/chunker-params.js';
import { Chunker, chunkStream } from '../src/fastcdc.js';
import { sha256, toHex } from '../src/sha256.js';
import { deterministicBytes, seededInts, splitInto } from './deterministic-bytes.js';
import { referenceChunkLengths } from './reference-chunker.js';

const MiB = 1024 * 1024;
const SMALL: Partial<ChunkerParams> = { minSize: 256, avgSize: 1024, maxSize: 4096 };

/** Chunks `pieces` with one Chunker and returns every chunk, finish included. */
function chunkPieces(pieces: Uint8Array[], params?: Partial<ChunkerParams>): Uint8Array[] {
  const chunker = new Chunker(params);
  return [...pieces.flatMap((p) => chunker.push(p)), ...chunker.finish()];
}

const lengthsOf = (chunks: Uint8Array[]) => chunks.map((c) => c.length);

/** Chunks by digest: compares like the chunks themselves, without a byte-by-byte diff. */
const digestsOf = (chunks: Uint8Array[]) => chunks.map((c) => toHex(sha256(c)));

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** Byte equality through Buffer.equals (deep equality of large arrays is very slow). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

describe('Chunker', () => {
  it('matches a from-scratch statement of the boundary rule', () => {
    const small = deterministicBytes('reference small', 256 * 1024);
    expect(lengthsOf(chunkPieces([small], SMALL))).toEqual(referenceChunkLengths(small, SMALL));
    const large = deterministicBytes('reference default', 2 * MiB);
    expect(lengthsOf(chunkPieces([large]))).toEqual(referenceChunkLengths(large));
  });

  it('cuts the same whether fed whole, byte by byte or in random pieces', () => {
    const small = deterministicBytes('split small', 48 * 1024);
    const whole = digestsOf(chunkPieces([small], SMALL));
    expect(whole.length).toBeGreaterThan(10);
    expect(
      digestsOf(
        chunkPieces(
          splitInto(small, () => 1),
          SMALL,
        ),
      ),
    ).toEqual(whole);

    const data = deterministicBytes('split large', 8 * MiB);
    const reference = chunkPieces([data]);
    const next = seededInts(42);
    for (const max of [100, 70_000, 1 * MiB]) {
      const pieces = splitInto(data, () => next(1, max));
      expect(digestsOf(chunkPieces(pieces))).toEqual(digestsOf(reference));
    }
    expect(sameBytes(concat(reference), data)).toBe(true);
  });

  it('is deterministic across instances and reusable after finish', () => {
    const data = deterministicBytes('determinism', 2 * MiB);
    const chunker = new Chunker();
    const first = digestsOf([...chunker.push(data), ...chunker.finish()]);
    const second = digestsOf([...chunker.push(data), ...chunker.finish()]);
    expect(second).toEqual(first);
    expect(digestsOf(chunkPieces([data]))).toEqual(first);
  });

  it('keeps every chunk but the last within [minSize, maxSize]', () => {
    const { minSize, maxSize } = DEFAULT_CHUNKER_PARAMS;
    for (const data of [deterministicBytes('bounds', 8 * MiB + 123), new Uint8Array(MiB + 7)]) {
      const lengths = lengthsOf(chunkPieces([data]));
      for (const len of lengths.slice(0, -1)) {
        expect(len).toBeGreaterThanOrEqual(minSize);
        expect(len).toBeLessThanOrEqual(maxSize);
      }
      expect(lengths.at(-1)).toBeLessThanOrEqual(maxSize);
      expect(lengths.reduce((a, b) => a + b, 0)).toBe(data.length);
    }
  });

  it('cuts constant data at maxSize', () => {
    expect(lengthsOf(chunkPieces([new Uint8Array(MiB + 5)]))).toEqual([
      262_144, 262_144, 262_144, 262_144, 5,
    ]);
  });

  it('changes at most a few chunks when 100 bytes are inserted mid-stream', () => {
    const data = deterministicBytes('shift', 8 * MiB);
    const insert = deterministicBytes('inserted', 100);
    const mid = data.length / 2;
    const edited = concat([data.subarray(0, mid), insert, data.subarray(mid)]);
    const before = new Set(digestsOf(chunkPieces([data])));
    const after = digestsOf(chunkPieces([edited]));
    const changed = after.filter((c) => !before.has(c));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(3);
    expect(before.size - (after.length - changed.length)).toBeLessThanOrEqual(3);
  });

  it('averages within 25% of avgSize over 32 MiB of random data', () => {
    const data = deterministicBytes('average', 32 * MiB);
    const lengths = lengthsOf(chunkPieces([data]));
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(DEFAULT_CHUNKER_PARAMS.avgSize * 0.75);
    expect(mean).toBeLessThan(DEFAULT_CHUNKER_PARAMS.avgSize * 1.25);
  });

  it('returns chunks the caller owns', () => {
    const data = deterministicBytes('ownership', 300 * 1024);
    const copy = data.slice();
    const chunks = chunkPieces([data]);
    data.fill(0);
    expect(sameBytes(concat(chunks), copy)).toBe(true);
  });

  it('returns nothing for an empty stream', () => {
    expect(chunkPieces([new Uint8Array(0)])).toEqual([]);
  });

  it('rejects parameters it cannot honour, naming each field', () => {
    const bad = () => new Chunker({ minSize: 8, avgSize: 4, maxSize: 2 ** 40, normalization: 5 });
    expect(bad).toThrow(InvalidArgumentError);
    try {
      bad();
    } catch (err) {
      expect((err as InvalidArgumentError).code).toBe('invalid_argument');
      expect((err as InvalidArgumentError).violations.map((v) => v.field)).toEqual([
        'minSize',
        'avgSize',
        'maxSize',
        'normalization',
      ]);
    }
  });
});

describe('chunkStream', () => {
  it('yields the same chunks as the Chunker, including for pieces larger than maxSize', async () => {
    const data = deterministicBytes('stream', 4 * MiB);
    async function* source() {
      yield data.subarray(0, 3 * MiB);
      yield data.subarray(3 * MiB);
    }
    const streamed: Uint8Array[] = [];
    for await (const chunk of chunkStream(source())) streamed.push(chunk);
    expect(digestsOf(streamed)).toEqual(digestsOf(chunkPieces([data])));
  });
});
