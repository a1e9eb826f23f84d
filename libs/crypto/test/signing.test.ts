import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fromHex,
  generateSigningKeyPair,
  loadOrCreateKeyFile,
  loadSodium,
  readKeyFile,
  signDetached,
  verifyDetached,
} from '../src/index.js';

// RFC 8032 §7.1 and Wycheproof Ed25519 vectors, copied into vectors/ed25519 (see SOURCE.md there).
const vectors = new URL('./vectors/ed25519/', import.meta.url);
const rfc8032 = JSON.parse(readFileSync(new URL('rfc8032-7.1-ed25519.json', vectors), 'utf8')) as {
  vectors: { name: string; libsodiumSecretKey: string; message: string; signature: string }[];
};
const wycheproof = JSON.parse(
  readFileSync(new URL('wycheproof_ed25519_test.json', vectors), 'utf8'),
) as {
  testGroups: {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: string }[];
  }[];
};
const hex = (s: string) => fromHex(s) ?? new Uint8Array();

describe('Ed25519 through libsodium', () => {
  it.each(rfc8032.vectors)('signs RFC 8032 $name exactly', async (v) => {
    const sodium = await loadSodium();
    const sig = sodium.crypto_sign_detached(hex(v.message), hex(v.libsodiumSecretKey));
    expect(Buffer.from(sig).toString('hex')).toBe(v.signature);
  });

  it('agrees with every Wycheproof verdict', async () => {
    const sodium = await loadSodium();
    let checked = 0;
    for (const group of wycheproof.testGroups) {
      for (const t of group.tests) {
        let ok: boolean;
        try {
          ok = sodium.crypto_sign_verify_detached(hex(t.sig), hex(t.msg), hex(group.publicKey.pk));
        } catch {
          ok = false;
        }
        expect({ tcId: t.tcId, ok }).toEqual({ tcId: t.tcId, ok: t.result === 'valid' });
        checked++;
      }
    }
    expect(checked).toBe(151);
  });
});

describe('domain-separated signatures', () => {
  it('verifies under the same domain and refuses another domain, key or message', async () => {
    const key = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const msg = new TextEncoder().encode('event bytes');
    const sig = await signDetached(key, 'vitrine/event/v1\n', msg);
    await expect(verifyDetached(key.publicKey, 'vitrine/event/v1\n', msg, sig)).resolves.toBe(
      undefined,
    );
    const refusals = [
      verifyDetached(key.publicKey, 'vitrine/manifest/v1\n', msg, sig),
      verifyDetached(other.publicKey, 'vitrine/event/v1\n', msg, sig),
      verifyDetached(key.publicKey, 'vitrine/event/v1\n', new Uint8Array([1]), sig),
      verifyDetached(key.publicKey, 'vitrine/event/v1\n', msg, sig.subarray(1)),
      verifyDetached(new Uint8Array(5), 'vitrine/event/v1\n', msg, sig, 'unauthenticated'),
    ];
    const codes = await Promise.all(refusals.map((p) => p.catch((e: { code: string }) => e.code)));
    expect(codes).toEqual(['data_loss', 'data_loss', 'data_loss', 'data_loss', 'unauthenticated']);
  });
});

describe('key files', () => {
  it('creates a 0600 key once and reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitrine-key-'));
    try {
      const path = join(dir, 'keys', 'center.key');
      const first = await loadOrCreateKeyFile(path);
      const again = await loadOrCreateKeyFile(path);
      expect(again.publicKey).toEqual(first.publicKey);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(await readFile(path, 'utf8')).toContain('"type": "ed25519"');
      await writeFile(path, '{"type":"rsa"}');
      await expect(readKeyFile(path)).rejects.toMatchObject({ code: 'failed_precondition' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
