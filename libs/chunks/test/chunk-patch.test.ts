import { isVitrineError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import { applyPatch, MIN_PATCH_SAVING, patchOf } from '../src/chunk-patch.js';
import { deterministicBytes } from './deterministic-bytes.js';

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('chunk patches', () => {
  const base = deterministicBytes('patch base', 64 * 1024);
  const edit = deterministicBytes('patch edit', 10 * 1024);

  it('sends only the bytes between what a chunk shares with its base, for an insertion', () => {
    const target = concat(base.subarray(0, 20_000), edit, base.subarray(20_000));
    const patch = patchOf(target, base);
    expect(patch).toMatchObject({ prefix: 20_000, suffix: base.length - 20_000 });
    expect(patch?.middle.length).toBe(edit.length);
    expect(
      Buffer.compare(applyPatch(base, patch ?? { prefix: 0, suffix: 0, middle: target }), target),
    ).toBe(0);
  });

  it('sends only the overwritten bytes for an overwrite, and rebuilds the chunk', () => {
    const target = concat(base.subarray(0, 30_000), edit, base.subarray(30_000 + edit.length));
    const patch = patchOf(target, base);
    expect(patch?.middle.length).toBe(edit.length);
    if (!patch) throw new Error('no patch');
    expect(Buffer.compare(applyPatch(base, patch), target)).toBe(0);
  });

  it('handles a chunk that is a prefix or suffix of its base without overlapping them', () => {
    const head = base.subarray(0, 40_000);
    const patch = patchOf(head, base);
    expect(patch).toMatchObject({ prefix: 40_000, suffix: 0 });
    if (!patch) throw new Error('no patch');
    expect(Buffer.compare(applyPatch(base, patch), head)).toBe(0);
    const repeated = new Uint8Array(5000).fill(7);
    const longer = new Uint8Array(6000).fill(7);
    const both = patchOf(longer, repeated);
    if (!both) throw new Error('no patch');
    expect(both.prefix + both.suffix).toBeLessThanOrEqual(repeated.length);
    expect(Buffer.compare(applyPatch(repeated, both), longer)).toBe(0);
  });

  it('offers no patch when a chunk shares too little with its base', () => {
    const other = deterministicBytes('unrelated', 64 * 1024);
    expect(patchOf(other, base)).toBeUndefined();
    const barely = concat(base.subarray(0, MIN_PATCH_SAVING - 1), other);
    expect(patchOf(barely, base)).toBeUndefined();
  });

  it('refuses a patch that reaches past its base with INVALID_ARGUMENT', () => {
    let caught: unknown;
    try {
      applyPatch(base.subarray(0, 100), { prefix: 60, suffix: 60, middle: edit });
    } catch (err) {
      caught = err;
    }
    expect(isVitrineError(caught, 'invalid_argument')).toBe(true);
  });
});
