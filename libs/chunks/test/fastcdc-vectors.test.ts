import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunker } from '../src/fastcdc.js';
import { GEAR_SEED, GEAR_TABLE_64, splitMix64 } from '../src/gear-table.js';
import { deterministicBytes } from './deterministic-bytes.js';
import vectors from './fixtures/fastcdc-vectors.json' with { type: 'json' };

describe('chunk boundary format', () => {
  it('generates the gear table with reference SplitMix64', () => {
    // First outputs of Vigna's splitmix64.c for seed 1234567.
    expect(splitMix64(1234567n, 5)).toEqual([
      6457827717110365317n,
      3203168211198807973n,
      9817491932198370423n,
      4593380528125082431n,
      16408922859458223821n,
    ]);
  });

  it('keeps the pinned gear table', () => {
    expect(`0x${GEAR_SEED.toString(16)}`).toBe(vectors.gearSeed);
    const bytes = Buffer.alloc(256 * 8);
    for (const [i, v] of GEAR_TABLE_64.entries()) bytes.writeBigUInt64BE(v, i * 8);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(vectors.gearTableSha256);
  });

  for (const v of vectors.vectors) {
    it(`cuts ${v.name} at the pinned boundaries`, () => {
      const data =
        v.label === null ? new Uint8Array(v.length) : deterministicBytes(v.label, v.length);
      expect(createHash('sha256').update(data).digest('hex')).toBe(v.inputSha256);
      const chunker = new Chunker(v.params);
      const lengths = [...chunker.push(data), ...chunker.finish()].map((c) => c.length);
      expect(lengths).toEqual(v.chunkLengths);
    });
  }
});
