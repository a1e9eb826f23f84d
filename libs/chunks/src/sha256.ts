import { VitrineError } from '@vitrine/errors';

export { bytesEqual, sha256, toHex } from '@vitrine/crypto';

/** Bytes in a SHA-256 digest, the length of every chunk address. */
export const DIGEST_LENGTH = 32;

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
