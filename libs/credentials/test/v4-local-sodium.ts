import { createDecipheriv } from 'node:crypto';
import { loadSodium } from '@vitrine/crypto';
import { type Key, LocalDecrypt, LocalImportKey, LocalProtocol, PAE } from 'paseto';
import { hchacha20 } from '../../channel/test/hchacha20.js';

/**
 * v4.local decryption (keyed BLAKE2b from libsodium; XChaCha20 as HChaCha20 + node's ChaCha20;
 * PASETO v4 spec §Decrypt),
 * plugged into the `paseto` library's token parsing. vitrine issues only v4.public tokens;
 * this lets the suite run the published v4.local vectors through the same parser (strict
 * base64url, header and footer checks) that reads vitrine's credentials.
 */
interface SodiumLocalKey extends Key {
  readonly bytes: Uint8Array;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

async function decrypt(
  key: SodiumLocalKey,
  payload: Uint8Array,
  footer: Uint8Array,
  implicit: Uint8Array,
): Promise<Uint8Array> {
  const sodium = await loadSodium();
  if (payload.length < 64) throw new Error('payload too short');
  const n = payload.subarray(0, 32);
  const c = payload.subarray(32, payload.length - 32);
  const t = payload.subarray(payload.length - 32);
  const tmp = sodium.crypto_generichash(56, concat(utf8('paseto-encryption-key'), n), key.bytes);
  const ak = sodium.crypto_generichash(32, concat(utf8('paseto-auth-key-for-aead'), n), key.bytes);
  const preAuth = PAE([utf8('v4.local.'), n, c, footer, implicit]);
  const t2 = sodium.crypto_generichash(32, preAuth, ak);
  if (!sodium.memcmp(t, t2)) throw new Error('invalid tag');
  return xchacha20(tmp.subarray(0, 32), tmp.subarray(32), c);
}

/** XChaCha20 keystream XOR: ChaCha20 (counter 0) under the HChaCha20 subkey. */
function xchacha20(key: Uint8Array, nonce24: Uint8Array, data: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(nonce24.subarray(16, 24), 8);
  const cipher = createDecipheriv('chacha20', hchacha20(key, nonce24.subarray(0, 16)), iv);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export const v4localSodium = new LocalProtocol(
  LocalDecrypt<4, SodiumLocalKey>({ version: 4, run: decrypt }),
  LocalImportKey<4, SodiumLocalKey>({
    version: 4,
    run: async (paserk) => ({
      algorithm: { name: 'PASETO v4.local' },
      extractable: false,
      type: 'secret',
      bytes: new Uint8Array(Buffer.from(paserk.slice('k4.local.'.length), 'base64url')),
    }),
  }),
);
