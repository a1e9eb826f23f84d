import { VitrineError } from '@vitrine/errors';
import { readSecretFile, writeSecretFile } from './secret-file.js';
import { generateSigningKeyPair, type SigningKeyPair } from './signing.js';

interface KeyFileJson {
  type: 'ed25519';
  publicKey: string;
  secretKey: string;
}

/**
 * Reads the Ed25519 key pair at `path`, or creates one there (mode 0600, written to a temp
 * file, fsynced and renamed) when none exists yet. A center's identity survives restarts.
 */
export async function loadOrCreateKeyFile(path: string): Promise<SigningKeyPair> {
  const existing = await readKeyFile(path);
  if (existing) return existing;
  const key = await generateSigningKeyPair();
  await writeKeyFile(path, key);
  return key;
}

/** Reads a key file; undefined when there is none, `failed_precondition` when it is unusable. */
export async function readKeyFile(path: string): Promise<SigningKeyPair | undefined> {
  const text = await readSecretFile(path);
  if (text === undefined) return undefined;
  try {
    const json = JSON.parse(text) as KeyFileJson;
    const publicKey = new Uint8Array(Buffer.from(json.publicKey, 'base64'));
    const secretKey = new Uint8Array(Buffer.from(json.secretKey, 'base64'));
    if (json.type !== 'ed25519' || publicKey.length !== 32 || secretKey.length !== 64) {
      throw new Error('unexpected key shape');
    }
    return { publicKey, secretKey };
  } catch (cause) {
    throw new VitrineError('failed_precondition', `key file ${path} is not a vitrine ed25519 key`, {
      cause,
    });
  }
}

/** Writes a key file readable by its owner only (0600), atomically. */
export async function writeKeyFile(path: string, key: SigningKeyPair): Promise<void> {
  const json: KeyFileJson = {
    type: 'ed25519',
    publicKey: Buffer.from(key.publicKey).toString('base64'),
    secretKey: Buffer.from(key.secretKey).toString('base64'),
  };
  await writeSecretFile(path, `${JSON.stringify(json, null, 2)}\n`);
}
