import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSodium } from '@vitrine/crypto';
import { tempDir } from '@vitrine/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateCenterKeys,
  loadOrCreateKxKeyFile,
  readKxKeyFile,
  writeKxKeyFile,
} from '../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function folder(): Promise<string> {
  const dir = await tempDir('vitrine-channel-keys-');
  cleanups.push(dir.cleanup);
  return dir.path;
}

describe('generateCenterKeys', () => {
  it('makes an Ed25519 signing pair and a matching X25519 kx pair', async () => {
    const sodium = await loadSodium();
    const keys = await generateCenterKeys();
    expect(keys.signing.publicKey).toHaveLength(32);
    expect(keys.signing.secretKey).toHaveLength(64);
    expect(keys.signing.secretKey.subarray(32)).toEqual(keys.signing.publicKey);
    expect(sodium.crypto_scalarmult_base(keys.kx.secretKey)).toEqual(keys.kx.publicKey);
    expect((await generateCenterKeys()).kx.publicKey).not.toEqual(keys.kx.publicKey);
  });
});

describe('kx key files', () => {
  it('writes 0600 atomically and reads the same pair back', async () => {
    const path = join(await folder(), 'keys', 'kx.json');
    const { kx } = await generateCenterKeys();
    await writeKxKeyFile(path, kx);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readKxKeyFile(path)).toEqual(kx);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ type: 'x25519-kx' });
  });

  it('creates a key once and keeps it across loads', async () => {
    const path = join(await folder(), 'kx.json');
    expect(await readKxKeyFile(path)).toBeUndefined();
    const first = await loadOrCreateKxKeyFile(path);
    expect(await loadOrCreateKxKeyFile(path)).toEqual(first);
  });

  it('refuses a file whose public key is not the secret key’s', async () => {
    const path = join(await folder(), 'kx.json');
    const a = await generateCenterKeys();
    const b = await generateCenterKeys();
    await writeKxKeyFile(path, { publicKey: a.kx.publicKey, secretKey: b.kx.secretKey });
    await expect(readKxKeyFile(path)).rejects.toMatchObject({ code: 'failed_precondition' });
  });

  it('refuses an Ed25519 key file or garbage in its place', async () => {
    const path = join(await folder(), 'kx.json');
    const { signing } = await generateCenterKeys();
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
    const ed25519 = {
      type: 'ed25519',
      publicKey: b64(signing.publicKey),
      secretKey: b64(signing.secretKey),
    };
    for (const text of [JSON.stringify(ed25519), 'not json']) {
      await writeFile(path, text);
      await expect(readKxKeyFile(path)).rejects.toMatchObject({ code: 'failed_precondition' });
    }
  });
});
