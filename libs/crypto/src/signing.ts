import { VitrineError } from '@vitrine/errors';
import { loadSodium } from './sodium.js';

/** An Ed25519 key pair in libsodium's layout (64-byte secret key = seed ‖ public key). */
export interface SigningKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * Every signature vitrine makes covers a domain prefix before the message, so a signature
 * made for one purpose (an event, a manifest, a checkpoint) can never be replayed as another.
 */
export type SignatureDomain = `vitrine/${string}\n`;

/** Creates a fresh Ed25519 key pair. */
export async function generateSigningKeyPair(): Promise<SigningKeyPair> {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_sign_keypair();
  return { publicKey, secretKey: privateKey };
}

/** Signs `domain ‖ message` with Ed25519 (RFC 8032). */
export async function signDetached(
  key: SigningKeyPair,
  domain: SignatureDomain,
  message: Uint8Array,
): Promise<Uint8Array> {
  const sodium = await loadSodium();
  return sodium.crypto_sign_detached(withDomain(domain, message), key.secretKey);
}

/** Failure codes of signature verification; the message is fixed and says nothing more. */
export class SignatureError extends VitrineError {
  constructor(code: 'data_loss' | 'unauthenticated' = 'data_loss') {
    super(code, 'signature verification failed');
  }
}

/**
 * Verifies an Ed25519 signature over `domain ‖ message`; throws SignatureError (never a
 * quiet false) when the key or signature is malformed or the signature does not verify.
 */
export async function verifyDetached(
  publicKey: Uint8Array,
  domain: SignatureDomain,
  message: Uint8Array,
  signature: Uint8Array,
  code: 'data_loss' | 'unauthenticated' = 'data_loss',
): Promise<void> {
  const sodium = await loadSodium();
  if (publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES) throw new SignatureError(code);
  if (signature.length !== sodium.crypto_sign_BYTES) throw new SignatureError(code);
  let ok = false;
  try {
    ok = sodium.crypto_sign_verify_detached(signature, withDomain(domain, message), publicKey);
  } catch {
    ok = false;
  }
  if (!ok) throw new SignatureError(code);
}

/** Prepends the domain prefix (UTF-8) to the message. */
function withDomain(domain: SignatureDomain, message: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(domain);
  const out = new Uint8Array(prefix.length + message.length);
  out.set(prefix, 0);
  out.set(message, prefix.length);
  return out;
}
