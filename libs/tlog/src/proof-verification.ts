import { bytesEqual } from '@vitrine/crypto';
import { LogError } from './log-error.js';
import { HASH_SIZE, half, hashChildren, isOdd } from './merkle-hash.js';

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves whose root is
 * `root`, by RFC 9162 §2.1.3.2. Throws a LogError naming the failed step; never returns a
 * quiet false.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkSize(size, 'tree size');
  checkSize(index, 'leaf index');
  if (index >= size) throw new LogError('inclusion', `leaf ${index} is beyond a tree of ${size}`);
  checkHashes([leafHash, root, ...proof]);
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  if (!bytesEqual(computed, root)) {
    throw new LogError('inclusion', `inclusion proof of leaf ${index} does not lead to the root`);
  }
}

/** The root an inclusion path leads to (RFC 9162 §2.1.3.2 steps 2–5). */
function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new LogError('inclusion', 'inclusion proof is longer than the tree');
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new LogError('inclusion', 'inclusion proof is shorter than the tree');
  return r;
}

/**
 * Verifies that the tree of `size2` leaves with root `root2` extends the tree of `size1`
 * leaves with root `root1`, by RFC 9162 §2.1.4.2. As in transparency-dev/merkle, a proof
 * from the empty tree is refused, and equal sizes need an empty proof and equal roots.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkSize(size1, 'old size');
  checkSize(size2, 'new size');
  if (size1 === 0) throw new LogError('consistency', 'no consistency proof from the empty tree');
  if (size1 > size2) throw new LogError('consistency', `size went back from ${size1} to ${size2}`);
  if (size1 === size2) {
    // As transparency-dev/merkle: one size is consistent with itself when the roots are equal.
    if (proof.length > 0) throw new LogError('consistency', 'equal sizes take an empty proof');
    if (!bytesEqual(root1, root2)) throw new LogError('consistency', 'one size, two roots');
    return;
  }
  checkHashes([root1, root2, ...proof]);
  if (proof.length === 0) throw new LogError('consistency', 'consistency proof is empty');
  const [first, second] = rootsFromConsistencyProof(size1, size2, proof, root1);
  if (!bytesEqual(first, root1)) {
    throw new LogError('consistency', `consistency proof does not lead to the root at ${size1}`);
  }
  if (!bytesEqual(second, root2)) {
    throw new LogError('consistency', `consistency proof does not lead to the root at ${size2}`);
  }
}

/** The two roots a consistency path leads to (RFC 9162 §2.1.4.2 steps 2–7). */
function rootsFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): [Uint8Array, Uint8Array] {
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new LogError('consistency', 'consistency proof is longer than the tree');
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new LogError('consistency', 'consistency proof is shorter than the tree');
  return [fr, sr];
}

function isPowerOfTwo(n: number): boolean {
  let m = n;
  while (m > 1 && !isOdd(m)) m = half(m);
  return m === 1;
}

/** Sizes are whole numbers JavaScript counts exactly (below 2^53). */
function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new LogError('size', `${what} ${n} is not valid`);
}

function checkHashes(hashes: readonly Uint8Array[]): void {
  for (const h of hashes) {
    if (h.length !== HASH_SIZE) throw new LogError('malformed', 'a hash is not 32 bytes');
  }
}
