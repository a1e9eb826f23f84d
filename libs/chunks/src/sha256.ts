import { createHash } from 'node:crypto';
import { VitrineError } from '@vitrine/errors';

/** Bytes in a SHA-256 digest, the length of every chunk address. */
export const DIGEST_LENGTH = 32;

/** SHA-256 of `data` (node:crypto), as a plain Uint8Array rather than a Buffer. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Lower-case hex, the form chunk addresses take in file names and messages. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parses lower- or upper-case hex; throws `invalid_argument` on anything else. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new VitrineError('invalid_argument', 'not a hex string');
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** True when both byte strings are identical (digests are public: no constant time needed). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Throws `invalid_argument` unless `digest` has the length of a SHA-256 digest. */
export function assertDigest(digest: Uint8Array): void {
  if (!(digest instanceof Uint8Array) || digest.length !== DIGEST_LENGTH) {
    throw new VitrineError('invalid_argument', `chunk digest must be ${DIGEST_LENGTH} bytes`);
  }
}

/**
 * A Uint8Array view of a Buffer's bytes, so results compare equal to other Uint8Arrays
 * (a Buffer and a Uint8Array with the same bytes are not deep-equal).
 */
export function asPlain(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
