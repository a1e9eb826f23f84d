import { loadSodium } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';

/** PASERK `k4.public` of a raw 32-byte Ed25519 public key. */
export function publicPaserk(publicKey: Uint8Array): `k4.public.${string}` {
  if (publicKey.length !== 32) {
    throw new VitrineError('invalid_argument', 'an Ed25519 public key has 32 bytes');
  }
  return `k4.public.${base64url(publicKey)}`;
}

/** PASERK `k4.secret` of a libsodium Ed25519 secret key (seed ‖ public key, 64 bytes). */
export function secretPaserk(secretKey: Uint8Array): `k4.secret.${string}` {
  if (secretKey.length !== 64) {
    throw new VitrineError('invalid_argument', 'an Ed25519 secret key has 64 bytes');
  }
  return `k4.secret.${base64url(secretKey)}`;
}

/** The raw public key of a `k4.public` PASERK; undefined for anything else. */
export function publicKeyOfPaserk(paserk: string): Uint8Array | undefined {
  const prefix = 'k4.public.';
  if (!paserk.startsWith(prefix)) return undefined;
  const key = strictBase64url(paserk.slice(prefix.length));
  return key?.length === 32 ? key : undefined;
}

/**
 * The PASERK `k4.pid` key id of an Ed25519 public key: BLAKE2b-264 over the header and the
 * key's `k4.public` PASERK. Token footers carry it so a center picks the verifying key
 * without trying each.
 */
export async function keyIdOf(publicKey: Uint8Array): Promise<`k4.pid.${string}`> {
  const sodium = await loadSodium();
  const header = 'k4.pid.';
  const digest = sodium.crypto_generichash(
    33,
    new TextEncoder().encode(header + publicPaserk(publicKey)),
    null,
  );
  return `${header}${base64url(digest)}`;
}

/** Unpadded base64url (RFC 4648 §5), as PASETO and PASERK use. */
export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/**
 * Decodes unpadded, canonical base64url only: a padded string, a foreign character or
 * non-zero trailing bits (which lenient decoders accept) gives undefined.
 */
export function strictBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return base64url(bytes) === text ? new Uint8Array(bytes) : undefined;
}
