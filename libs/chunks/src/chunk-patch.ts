import { VitrineError } from '@vitrine/errors';

/**
 * A chunk expressed against chunks the receiver holds: the chunk is
 * `front[0, prefix) ‖ middle ‖ back[back.length - suffix, back.length)`. A content-defined
 * chunk that an edit changed usually begins like the chunk that stood where it starts and
 * ends like the one that stood where it ends (the same chunk, unless the edit moved a cut),
 * so sending only the middle moves little more than the edit itself.
 */
export interface ChunkPatch {
  readonly prefix: number;
  readonly suffix: number;
  readonly middle: Uint8Array;
}

/** Patches that would save fewer bytes than this are not worth it: the whole chunk goes. */
export const MIN_PATCH_SAVING = 1024;

/**
 * The patch of `target` against `front` (for its prefix) and `back` (for its suffix), or
 * undefined when they share too little with it.
 */
export function patchOf(
  target: Uint8Array,
  front: Uint8Array | undefined,
  back: Uint8Array | undefined,
): ChunkPatch | undefined {
  let prefix = 0;
  if (front !== undefined) {
    const most = Math.min(target.length, front.length);
    while (prefix < most && target[prefix] === front[prefix]) prefix++;
  }
  let suffix = 0;
  if (back !== undefined) {
    const most = Math.min(target.length - prefix, back.length);
    while (suffix < most && target[target.length - 1 - suffix] === back[back.length - 1 - suffix]) {
      suffix++;
    }
  }
  if (prefix + suffix < MIN_PATCH_SAVING) return undefined;
  return { prefix, suffix, middle: target.subarray(prefix, target.length - suffix) };
}

/**
 * The chunk a patch describes. `invalid_argument` when the prefix or suffix does not fit in
 * its base (or the base is missing); whether the result is the chunk wanted is for its
 * digest to tell.
 */
export function applyPatch(
  front: Uint8Array | undefined,
  back: Uint8Array | undefined,
  patch: ChunkPatch,
): Uint8Array {
  const { prefix, suffix, middle } = patch;
  if (prefix > (front?.length ?? 0) || suffix > (back?.length ?? 0)) {
    throw new VitrineError('invalid_argument', 'chunk patch reaches past its base');
  }
  const out = new Uint8Array(prefix + middle.length + suffix);
  if (front) out.set(front.subarray(0, prefix), 0);
  out.set(middle, prefix);
  if (back) out.set(back.subarray(back.length - suffix), prefix + middle.length);
  return out;
}
