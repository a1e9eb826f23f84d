import { VitrineError } from '@vitrine/errors';

/**
 * Bytes the receiver holds that a chunk likely shares most of its own with, and where: the
 * chunk likely begins like `bytes` from `startGap` on and ends like them `endGap` before
 * their end. In vitrine, `bytes` are the chunks a run of new chunks replaced in the version
 * their artifact supersedes, and the gaps are the new chunk's offsets from the new run's
 * start and end: an edit shifts content-defined cuts for a few chunks after it, but every
 * byte before the edit stays at its offset from the run's start, and every byte after it at
 * its offset from the run's end.
 */
export interface PatchBase {
  readonly bytes: Uint8Array;
  readonly startGap: number;
  readonly endGap: number;
}

/**
 * A chunk expressed against a {@link PatchBase}: the chunk is
 * `bytes[startGap, startGap + prefix) ‖ middle ‖ bytes[len - endGap - suffix, len - endGap)`,
 * so only the middle — about the edited bytes — has to travel.
 */
export interface ChunkPatch {
  readonly prefix: number;
  readonly suffix: number;
  readonly middle: Uint8Array;
}

/** Patches that would save fewer bytes than this are not worth it: the whole chunk goes. */
export const MIN_PATCH_SAVING = 1024;

/** The patch of `target` against `base`, or undefined when they share too little. */
export function patchOf(target: Uint8Array, base: PatchBase): ChunkPatch | undefined {
  const { bytes, startGap, endGap } = base;
  let prefix = 0;
  if (startGap <= bytes.length) {
    const most = Math.min(target.length, bytes.length - startGap);
    while (prefix < most && target[prefix] === bytes[startGap + prefix]) prefix++;
  }
  let suffix = 0;
  if (endGap <= bytes.length) {
    const end = bytes.length - endGap;
    const most = Math.min(target.length - prefix, end);
    while (suffix < most && target[target.length - 1 - suffix] === bytes[end - 1 - suffix]) {
      suffix++;
    }
  }
  if (prefix + suffix < MIN_PATCH_SAVING) return undefined;
  return { prefix, suffix, middle: target.subarray(prefix, target.length - suffix) };
}

/**
 * The chunk a patch describes. `invalid_argument` when its prefix or suffix reaches past the
 * base's bytes; whether the result is the chunk wanted is for its digest to tell.
 */
export function applyPatch(base: PatchBase, patch: ChunkPatch): Uint8Array {
  const { bytes, startGap, endGap } = base;
  const { prefix, suffix, middle } = patch;
  const fits = (gap: number, length: number) => length === 0 || gap + length <= bytes.length;
  if (!fits(startGap, prefix) || !fits(endGap, suffix)) {
    throw new VitrineError('invalid_argument', 'chunk patch reaches past its base');
  }
  const end = bytes.length - endGap;
  const out = new Uint8Array(prefix + middle.length + suffix);
  out.set(bytes.subarray(startGap, startGap + prefix), 0);
  out.set(middle, prefix);
  out.set(bytes.subarray(end - suffix, end), prefix + middle.length);
  return out;
}
