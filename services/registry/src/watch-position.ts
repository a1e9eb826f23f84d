import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { invalidField } from '@vitrine/errors';

const KEY_INFO = 'vitrine/watch-position/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TOKEN = /^[A-Za-z0-9_-]{48}$/;

/**
 * The resume tokens of finding watches: a local position sealed (AES-256-GCM) under a key
 * derived (HKDF-SHA256, RFC 5869) from the center's signing key. Sealed, because positions
 * count every finding change at the center: a partner reading them in the clear would learn
 * how many changes its scope hides between two it sees. Authenticated, so a token that is
 * malformed, altered or another center's is told apart from a real one (INVALID_ARGUMENT).
 */
export class WatchPositions {
  readonly #key: Buffer;

  constructor(signingSecretKey: Uint8Array) {
    this.#key = Buffer.from(hkdfSync('sha256', signingSecretKey, new Uint8Array(), KEY_INFO, 32));
  }

  /** The token of `position`: 48 base64url characters, fresh each time. */
  seal(position: bigint): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const plain = Buffer.alloc(8);
    plain.writeBigUInt64BE(position);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * The position of a token this center sealed; INVALID_ARGUMENT on `field` for anything
   * else, and for a position past `last` (the last change recorded here).
   */
  open(field: string, token: string, last: bigint): bigint {
    const position = this.#opened(token);
    if (position === undefined) {
      throw invalidField(
        field,
        'not a position this center sent; positions are valid only at the center that sent them (watch without one to start with the next change)',
      );
    }
    if (position > last) {
      throw invalidField(field, 'a position past the last finding change recorded here');
    }
    return position;
  }

  #opened(token: string): bigint | undefined {
    if (!TOKEN.test(token)) return undefined;
    const bytes = Buffer.from(token, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plain.readBigUInt64BE();
    } catch {
      return undefined;
    }
  }
}
