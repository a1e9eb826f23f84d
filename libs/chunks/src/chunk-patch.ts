import { VitrineError } from '@vitrine/errors';

/**
 * A chunk expressed against a base chunk the receiver holds: the chunk is
 * `base[0, prefix) ‖ middle ‖ base[base.length - suffix, base.length)`. A content-defined
 * chunk that an edit changed usually keeps the bytes before and after the edit, so sending
 * only the middle moves little more than the edit itself.
 */
export interface ChunkPatch {
  readonly prefix: number;
  readonly suffix: number;
  readonly middle: Uint8Array;
}

/** Patches that would save fewer bytes than this are not worth it: the whole chunk goes. */
export const MIN_PATCH_SAVING = 1024;

/** The patch of `target` against `base`, or undefined when they share too little. */
export function patchOf(target: Uint8Array, base: Uint8Array): ChunkPatch | undefined {
  const most = Math.min(target.length, base.length);
  let prefix = 0;
  while (prefix < most && target[prefix] === base[prefix]) prefix++;
  const room = most - prefix;
  let suffix = 0;
  while (suffix < room && target[target.length - 1 - suffix] === base[base.length - 1 - suffix]) {
    suffix++;
  }
  if (prefix + suffix < MIN_PATCH_SAVING) return undefined;
  return { prefix, suffix, middle: target.subarray(prefix, target.length - suffix) };
}

/**
 * The chunk a patch describes. `invalid_argument` when the prefix and suffix do not fit in
 * the base; whether the result is the chunk wanted is for its digest to tell.
 */
export function applyPatch(base: Uint8Array, patch: ChunkPatch): Uint8Array {
  const { prefix, suffix, middle } = patch;
  if (prefix + suffix > base.length) {
    throw new VitrineError('invalid_argument', 'chunk patch reaches past its base');
  }
  const out = new Uint8Array(prefix + middle.length + suffix);
  out.set(base.subarray(0, prefix), 0);
  out.set(middle, prefix);
  out.set(base.subarray(base.length - suffix), prefix + middle.length);
  return out;
}
