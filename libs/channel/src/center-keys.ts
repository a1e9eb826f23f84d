import { generateSigningKeyPair, loadSodium, type SigningKeyPair } from '@vitrine/crypto';

/** An X25519 key pair in libsodium `crypto_kx` layout (32-byte public and secret keys). */
export interface KxKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * A center's long-term keys: the Ed25519 pair it signs with (events, checkpoints,
 * handshakes) and the X25519 pair it agrees keys with. Both public halves go into the
 * federation manifest; the secret halves never leave the center.
 */
export interface CenterKeys {
  readonly signing: SigningKeyPair;
  readonly kx: KxKeyPair;
}

/** Creates a fresh key set for a new center, ready to be written to key files. */
export async function generateCenterKeys(): Promise<CenterKeys> {
  return { signing: await generateSigningKeyPair(), kx: await generateKxKeyPair() };
}

/** Creates a fresh X25519 key-exchange pair (libsodium `crypto_kx_keypair`). */
export async function generateKxKeyPair(): Promise<KxKeyPair> {
  const sodium = await loadSodium();
  const { publicKey, privateKey } = sodium.crypto_kx_keypair();
  return { publicKey, secretKey: privateKey };
}
