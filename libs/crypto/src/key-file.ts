import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VitrineError } from '@vitrine/errors';
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
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const json: KeyFileJson = {
    type: 'ed25519',
    publicKey: Buffer.from(key.publicKey).toString('base64'),
    secretKey: Buffer.from(key.secretKey).toString('base64'),
  };
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(`${JSON.stringify(json, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
