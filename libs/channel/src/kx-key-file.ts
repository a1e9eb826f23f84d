import { loadSodium, readSecretFile, writeSecretFile } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { generateKxKeyPair, type KxKeyPair } from './center-keys.js';

interface KxKeyFileJson {
  type: 'x25519-kx';
  publicKey: string;
  secretKey: string;
}

/**
 * Reads the center's X25519 key-exchange pair at `path`, or creates one there when none
 * exists yet (mode 0600, atomically), so the key the manifest names survives restarts.
 */
export async function loadOrCreateKxKeyFile(path: string): Promise<KxKeyPair> {
  const existing = await readKxKeyFile(path);
  if (existing) return existing;
  const key = await generateKxKeyPair();
  await writeKxKeyFile(path, key);
  return key;
}

/**
 * Reads a key-exchange key file; undefined when there is none, `failed_precondition` when
 * it is unusable — including a public key that does not belong to the secret key.
 */
export async function readKxKeyFile(path: string): Promise<KxKeyPair | undefined> {
  const text = await readSecretFile(path);
  if (text === undefined) return undefined;
  const sodium = await loadSodium();
  try {
    const json = JSON.parse(text) as KxKeyFileJson;
    const publicKey = new Uint8Array(Buffer.from(json.publicKey, 'base64'));
    const secretKey = new Uint8Array(Buffer.from(json.secretKey, 'base64'));
    if (json.type !== 'x25519-kx' || publicKey.length !== 32 || secretKey.length !== 32) {
      throw new Error('unexpected key shape');
    }
    if (sodium.compare(sodium.crypto_scalarmult_base(secretKey), publicKey) !== 0) {
      throw new Error('public key does not match secret key');
    }
    return { publicKey, secretKey };
  } catch (cause) {
    throw new VitrineError('failed_precondition', `key file ${path} is not a vitrine x25519 key`, {
      cause,
    });
  }
}

/** Writes a key-exchange key file readable by its owner only (0600), atomically. */
export async function writeKxKeyFile(path: string, key: KxKeyPair): Promise<void> {
  const json: KxKeyFileJson = {
    type: 'x25519-kx',
    publicKey: Buffer.from(key.publicKey).toString('base64'),
    secretKey: Buffer.from(key.secretKey).toString('base64'),
  };
  await writeSecretFile(path, `${JSON.stringify(json, null, 2)}\n`);
}
