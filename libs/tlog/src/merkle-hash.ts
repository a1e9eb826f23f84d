import { sha256 } from '@vitrine/crypto';

/** Every hash of the tree is SHA-256, 32 bytes (RFC 9162 §2.1). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** The root of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** The hash of a leaf, SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** The hash of an interior node, SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** The largest power of two smaller than `n` (n ≥ 2), the split point k of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Whether `n` is odd, for sizes beyond 32 bits (bitwise operators stop at 2^31). */
export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** `n` halved, rounded down, for sizes beyond 32 bits. */
export function half(n: number): number {
  return Math.floor(n / 2);
}
