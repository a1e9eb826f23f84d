import { createCipheriv, createHash } from 'node:crypto';

/**
 * Reproducible pseudo-random bytes for tests and vectors: the AES-128-CTR keystream (key =
 * first 16 bytes of SHA-256(label), IV = 16 zero bytes), i.e. AES-128-CTR encryption of
 * `length` zero bytes. Any AES implementation reproduces it, so fixtures built from it can
 * be regenerated outside vitrine.
 */
export function deterministicBytes(label: string, length: number): Uint8Array {
  const key = createHash('sha256').update(label).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const out = cipher.update(Buffer.alloc(length));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
