import { LogError } from './log-error.js';
import { EMPTY_ROOT, hashChildren, splitPoint } from './merkle-hash.js';

/**
 * A complete subtree of the log: the 2^level leaves from index·2^level on. Its hash is what
 * a log stores, so that roots and proofs are read, never recomputed from the leaves.
 */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Reads stored subtree hashes, in the order asked; all of them must exist. */
export interface HashReader {
  readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]>;
}

/** A range of leaves [start, end) whose hash a proof needs. */
type LeafRange = readonly [start: number, end: number];

/** The root of the first `size` leaves (RFC 9162 §2.1.1), from O(log size) stored hashes. */
export async function treeRoot(size: number, reader: HashReader): Promise<Uint8Array> {
  if (size === 0) return EMPTY_ROOT;
  const [root] = await rangeHashes([[0, size]], reader);
  return root as Uint8Array;
}

/** The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1). */
export async function inclusionProof(
  index: number,
  size: number,
  reader: HashReader,
): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new LogError('size', `leaf ${index} is not in a tree of ${size}`, 'invalid_argument');
  }
  return rangeHashes(inclusionPath(index, 0, size), reader);
}

/** The consistency proof from `size1` to `size2` leaves (RFC 9162 §2.1.4.1). */
export async function consistencyProof(
  size1: number,
  size2: number,
  reader: HashReader,
): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > size2) {
    throw new LogError(
      'size',
      `no consistency proof from ${size1} to ${size2}`,
      'invalid_argument',
    );
  }
  if (size1 === size2) return [];
  return rangeHashes(subproof(size1, 0, size2, true), reader);
}

/** PATH(m, D[start:end]) as the ranges whose hashes it lists (RFC 9162 §2.1.3.1). */
function inclusionPath(m: number, start: number, end: number): LeafRange[] {
  const n = end - start;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...inclusionPath(m, start, start + k), [start + k, end]];
  return [...inclusionPath(m - k, start + k, end), [start, start + k]];
}

/** SUBPROOF(m, D[start:end], b) as the ranges whose hashes it lists (RFC 9162 §2.1.4.1). */
function subproof(m: number, start: number, end: number, whole: boolean): LeafRange[] {
  const n = end - start;
  if (m === n) return whole ? [] : [[start, end]];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, start, start + k, whole), [start + k, end]];
  return [...subproof(m - k, start + k, end, false), [start, start + k]];
}

/**
 * The hashes of leaf ranges, each starting on a boundary of its own largest complete
 * subtree (as every range of a proof does): the range splits into complete subtrees, one
 * per bit of its length from the highest, read in one call and folded from the right.
 */
async function rangeHashes(
  ranges: readonly LeafRange[],
  reader: HashReader,
): Promise<Uint8Array[]> {
  const pieces = ranges.map(([start, end]) => completeSubtrees(start, end));
  const hashes = await reader.readHashes(pieces.flat());
  let at = 0;
  return pieces.map((nodes) => {
    const own = hashes.slice(at, at + nodes.length);
    at += nodes.length;
    let h = own[own.length - 1] as Uint8Array;
    for (let i = own.length - 2; i >= 0; i--) h = hashChildren(own[i] as Uint8Array, h);
    return h;
  });
}

/** The complete subtrees that make up [start, end), largest first. */
export function completeSubtrees(start: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let at = start;
  let remaining = end - start;
  let width = 1;
  let level = 0;
  while (width * 2 <= remaining) {
    width *= 2;
    level++;
  }
  while (remaining > 0) {
    if (width <= remaining) {
      if (at % width !== 0) {
        throw new LogError('size', `leaves ${start}..${end} do not start on a subtree boundary`);
      }
      nodes.push({ level, index: at / width });
      at += width;
      remaining -= width;
    }
    width /= 2;
    level--;
  }
  return nodes;
}
