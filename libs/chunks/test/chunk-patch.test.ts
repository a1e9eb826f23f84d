import { isVitrineError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  type ChunkPatch,
  MIN_PATCH_SAVING,
  type PatchBase,
  patchOf,
} from '../src/chunk-patch.js';
import { deterministicBytes } from './deterministic-bytes.js';

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** The patch, which the case expects to exist. */
function expectPatch(patch: ChunkPatch | undefined): ChunkPatch {
  if (!patch) throw new Error('no patch');
  return patch;
}

describe('chunk patches', () => {
  // Three old chunks' bytes, as a run a new run of chunks replaced.
  const run = deterministicBytes('old run', 192 * 1024);
  const edit = deterministicBytes('patch edit', 10 * 1024);
  const at = 70_000;
  // The run after 10 KiB were inserted at `at`, cut anew into three chunks.
  const edited = concat(run.subarray(0, at), edit, run.subarray(at));
  const cuts = [0, 60_000, 130_000, edited.length];
  const chunk = (k: number) => edited.subarray(cuts[k], cuts[k + 1]);
  const baseOf = (k: number): PatchBase => ({
    bytes: run,
    startGap: cuts[k] as number,
    endGap: edited.length - (cuts[k + 1] as number),
  });

  it('sends nothing but the inserted bytes, whichever chunk of the run they fell in', () => {
    const middles = [0, 1, 2].map((k) => {
      const patch = expectPatch(patchOf(chunk(k), baseOf(k)));
      expect(same(applyPatch(baseOf(k), patch), chunk(k))).toBe(true);
      return patch.middle.length;
    });
    // Before the edit, bytes sit at their offset from the run's start; after it, at theirs
    // from the run's end: only the edit travels.
    expect(middles).toEqual([0, edit.length, 0]);
  });

  it('sends only the overwritten bytes for an overwrite', () => {
    const overwritten = concat(run.subarray(0, at), edit, run.subarray(at + edit.length));
    const base = { bytes: run, startGap: 0, endGap: 0 };
    const patch = expectPatch(patchOf(overwritten, base));
    expect(patch.middle.length).toBe(edit.length);
    expect(same(applyPatch(base, patch), overwritten)).toBe(true);
  });

  it('never lets the prefix and suffix overlap in the chunk', () => {
    const repeated = new Uint8Array(5000).fill(7);
    const longer = new Uint8Array(6000).fill(7);
    const base = { bytes: repeated, startGap: 0, endGap: 0 };
    const patch = expectPatch(patchOf(longer, base));
    expect(patch.prefix + patch.suffix).toBeLessThanOrEqual(longer.length);
    expect(same(applyPatch(base, patch), longer)).toBe(true);
  });

  it('offers no patch when a chunk shares too little with its base, or its gaps miss', () => {
    const other = deterministicBytes('unrelated', 64 * 1024);
    expect(patchOf(other, { bytes: run, startGap: 0, endGap: 0 })).toBeUndefined();
    const barely = concat(run.subarray(0, MIN_PATCH_SAVING - 1), other);
    expect(patchOf(barely, { bytes: run, startGap: 0, endGap: 0 })).toBeUndefined();
    expect(
      patchOf(chunk(0), { bytes: run, startGap: run.length + 1, endGap: run.length + 1 }),
    ).toBeUndefined();
  });

  it('refuses a patch that reaches past its base with INVALID_ARGUMENT', () => {
    const attempt = (base: PatchBase) => {
      try {
        applyPatch(base, { prefix: 60, suffix: 60, middle: edit });
        return 'built';
      } catch (err) {
        return isVitrineError(err, 'invalid_argument') ? 'invalid_argument' : String(err);
      }
    };
    expect(attempt({ bytes: run.subarray(0, 100), startGap: 50, endGap: 0 })).toBe(
      'invalid_argument',
    );
    expect(attempt({ bytes: run.subarray(0, 100), startGap: 0, endGap: 50 })).toBe(
      'invalid_argument',
    );
    expect(attempt({ bytes: run.subarray(0, 100), startGap: 40, endGap: 40 })).toBe('built');
    // A gap past the base is fine where nothing is taken from that side.
    const suffixOnly = { bytes: run.subarray(0, 100), startGap: 500, endGap: 0 };
    const built = applyPatch(suffixOnly, { prefix: 0, suffix: 60, middle: edit });
    expect(same(built, concat(edit, run.subarray(40, 100)))).toBe(true);
  });
});
