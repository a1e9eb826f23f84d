import { isVitrineError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import { applyPatch, type ChunkPatch, MIN_PATCH_SAVING, patchOf } from '../src/chunk-patch.js';
import { deterministicBytes } from './deterministic-bytes.js';

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** The patch, which the case expects to exist. */
function expectPatch(patch: ChunkPatch | undefined): ChunkPatch {
  if (!patch) throw new Error('no patch');
  return patch;
}

describe('chunk patches', () => {
  const base = deterministicBytes('patch base', 64 * 1024);
  const next = deterministicBytes('patch next', 48 * 1024);
  const edit = deterministicBytes('patch edit', 10 * 1024);

  it('sends only the inserted bytes when a chunk begins and ends like its base', () => {
    const target = concat(base.subarray(0, 20_000), edit, base.subarray(20_000));
    const patch = expectPatch(patchOf(target, base, base));
    expect(patch).toMatchObject({ prefix: 20_000, suffix: base.length - 20_000 });
    expect(same(patch.middle, edit)).toBe(true);
    expect(same(applyPatch(base, base, patch), target)).toBe(true);
  });

  it('sends only the overwritten bytes for an overwrite', () => {
    const target = concat(base.subarray(0, 30_000), edit, base.subarray(30_000 + edit.length));
    const patch = expectPatch(patchOf(target, base, base));
    expect(patch.middle.length).toBe(edit.length);
    expect(same(applyPatch(base, base, patch), target)).toBe(true);
  });

  it('takes the prefix from one chunk and the suffix from the next, for an edit that merged two', () => {
    const target = concat(base.subarray(0, 50_000), edit, next);
    const patch = expectPatch(patchOf(target, base, next));
    expect(patch).toMatchObject({ prefix: 50_000, suffix: next.length });
    expect(same(patch.middle, edit)).toBe(true);
    expect(same(applyPatch(base, next, patch), target)).toBe(true);
    // With one side unknown, the other still serves.
    const half = expectPatch(patchOf(target, undefined, next));
    expect(half).toMatchObject({ prefix: 0, suffix: next.length });
    expect(same(applyPatch(undefined, next, half), target)).toBe(true);
  });

  it('never lets the prefix and suffix overlap in the chunk', () => {
    const repeated = new Uint8Array(5000).fill(7);
    const longer = new Uint8Array(6000).fill(7);
    const patch = expectPatch(patchOf(longer, repeated, repeated));
    expect(patch.prefix + patch.suffix).toBeLessThanOrEqual(longer.length);
    expect(same(applyPatch(repeated, repeated, patch), longer)).toBe(true);
  });

  it('offers no patch when a chunk shares too little with its bases', () => {
    const other = deterministicBytes('unrelated', 64 * 1024);
    expect(patchOf(other, base, base)).toBeUndefined();
    expect(patchOf(other, undefined, undefined)).toBeUndefined();
    const barely = concat(base.subarray(0, MIN_PATCH_SAVING - 1), other);
    expect(patchOf(barely, base, undefined)).toBeUndefined();
  });

  it('refuses a patch that reaches past its base, or names none, with INVALID_ARGUMENT', () => {
    const attempt = (front: Uint8Array | undefined, back: Uint8Array | undefined) => {
      try {
        applyPatch(front, back, { prefix: 60, suffix: 60, middle: edit });
        return 'built';
      } catch (err) {
        return isVitrineError(err, 'invalid_argument') ? 'invalid_argument' : String(err);
      }
    };
    expect(attempt(base.subarray(0, 50), base)).toBe('invalid_argument');
    expect(attempt(base, base.subarray(0, 50))).toBe('invalid_argument');
    expect(attempt(undefined, base)).toBe('invalid_argument');
    expect(attempt(base, base)).toBe('built');
  });
});
