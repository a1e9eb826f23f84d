import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadSodium } from '@vitrine/crypto';
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
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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

/** Writes `text` to a 0600 temp file beside `path` (folder 0700), fsyncs it and renames it over `path`. */
async function writeSecretFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(text);
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, path);
}
