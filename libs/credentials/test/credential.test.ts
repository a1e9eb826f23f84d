import { generateSigningKeyPair, sha256 } from '@vitrine/crypto';
import { describe, expect, it } from 'vitest';
import {
  type Credential,
  CredentialError,
  issueCredential,
  keyIdOf,
  MemoryReplayGuard,
  readCredential,
  signProof,
  TokenKeyring,
  type TokenSigner,
  verifyProof,
} from '../src/index.js';

const now = new Date('2026-11-28T10:00:00Z');
const hour = 3_600_000;

async function signer(): Promise<TokenSigner> {
  const key = await generateSigningKeyPair();
  return { key, keyId: await keyIdOf(key.publicKey) };
}

async function credentialFor(overrides: Partial<Credential> = {}): Promise<Credential> {
  const holder = await generateSigningKeyPair();
  return {
    id: 'cred-1',
    subject: { kind: 'partner', id: 'acme' },
    audience: ['europe'],
    jurisdiction: 'EU',
    scope: { kinds: ['source'], products: [], artifacts: [], actions: ['read'] },
    roles: [],
    issuedAt: now,
    notBefore: now,
    expiresAt: new Date(now.getTime() + hour),
    holderKey: holder.publicKey,
    ...overrides,
  };
}

const reasonOf = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CredentialError);
  return { reason: (err as CredentialError).reason, code: (err as CredentialError).code };
};

describe('credentials', () => {
  it('round-trips every claim through a PASETO v4.public token', async () => {
    const s = await signer();
    const keyring = new TokenKeyring();
    await keyring.set([s.key.publicKey]);
    const credential = await credentialFor({ audience: ['europe', 'europe-2'] });
    const token = await issueCredential(credential, s);
    expect(token.startsWith('v4.public.')).toBe(true);
    const read = await readCredential(token, keyring, { now });
    expect(read).toEqual({ ...credential, keyId: s.keyId });
  });

  it('refuses a key id it does not know, and a token signed by another key under a known id', async () => {
    const [a, b] = [await signer(), await signer()];
    const keyring = new TokenKeyring();
    await keyring.set([a.key.publicKey]);
    const credential = await credentialFor();
    expect(
      await reasonOf(readCredential(await issueCredential(credential, b), keyring, { now })),
    ).toEqual({
      reason: 'unknown_key',
      code: 'unauthenticated',
    });
    const forged = await issueCredential(credential, { key: b.key, keyId: a.keyId });
    expect(await reasonOf(readCredential(forged, keyring, { now }))).toEqual({
      reason: 'signature',
      code: 'unauthenticated',
    });
  });

  it('refuses a token whose payload was altered', async () => {
    const s = await signer();
    const keyring = new TokenKeyring();
    await keyring.set([s.key.publicKey]);
    const token = await issueCredential(await credentialFor(), s);
    const [v, p, payload, footer] = token.split('.') as [string, string, string, string];
    const bytes = Buffer.from(payload, 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    const altered = [v, p, bytes.toString('base64url'), footer].join('.');
    expect((await reasonOf(readCredential(altered, keyring, { now }))).reason).toBe('signature');
  });

  it('applies nbf and exp with the tolerated skew', async () => {
    const s = await signer();
    const keyring = new TokenKeyring();
    await keyring.set([s.key.publicKey]);
    const token = await issueCredential(await credentialFor(), s);
    const at = (ms: number) => ({ now: new Date(now.getTime() + ms), skewSeconds: 30 });
    await expect(readCredential(token, keyring, at(-20_000))).resolves.toBeDefined();
    expect((await reasonOf(readCredential(token, keyring, at(-40_000)))).reason).toBe(
      'not_yet_valid',
    );
    await expect(readCredential(token, keyring, at(hour + 20_000))).resolves.toBeDefined();
    expect((await reasonOf(readCredential(token, keyring, at(hour + 40_000)))).reason).toBe(
      'expired',
    );
  });

  it('refuses tokens that are not v4.public or whose footer names no key', async () => {
    const keyring = new TokenKeyring();
    expect((await reasonOf(readCredential('v4.local.AAAA', keyring))).reason).toBe('malformed');
    expect((await reasonOf(readCredential('v4.public.AAAA', keyring))).reason).toBe('malformed');
  });

  it('a retired key dropped from the keyring no longer verifies', async () => {
    const [old, next] = [await signer(), await signer()];
    const keyring = new TokenKeyring();
    await keyring.set([old.key.publicKey, next.key.publicKey]);
    const token = await issueCredential(await credentialFor(), old);
    await expect(readCredential(token, keyring, { now })).resolves.toBeDefined();
    await keyring.set([next.key.publicKey]);
    expect((await reasonOf(readCredential(token, keyring, { now }))).reason).toBe('unknown_key');
  });
});

describe('proof of possession', () => {
  const subject = {
    audience: 'europe',
    procedure: '/vitrine.registry.v1.RegistryService/GetArtifact',
    binding: 'v4.public.token',
    requestDigest: sha256(new Uint8Array([1, 2, 3])),
  };
  const t = now.getTime();

  const failure = async (p: Promise<void>) => {
    const err = (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message?: string } | undefined;
    expect(err?.code).toBe('unauthenticated');
    return err?.message;
  };

  it('accepts a fresh proof once, then refuses its replay', async () => {
    const key = await generateSigningKeyPair();
    const replays = new MemoryReplayGuard();
    const proof = await signProof(subject, key, t);
    const check = { publicKey: key.publicKey, now: t + 1_000, replays };
    await expect(verifyProof(proof, subject, check)).resolves.toBeUndefined();
    expect(await failure(verifyProof(proof, subject, check))).toMatch(/replayed/);
  });

  it('refuses a proof for another method, request, binding or key', async () => {
    const key = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const proof = await signProof(subject, key, t);
    const check = { publicKey: key.publicKey, now: t, replays: new MemoryReplayGuard() };
    for (const changed of [
      { ...subject, procedure: '/vitrine.registry.v1.RegistryService/ListArtifacts' },
      { ...subject, requestDigest: sha256(new Uint8Array([9])) },
      { ...subject, binding: 'v4.public.other' },
    ]) {
      expect(await failure(verifyProof(proof, changed, check))).toMatch(/not valid/);
    }
    expect(
      await failure(verifyProof(proof, subject, { ...check, publicKey: other.publicKey })),
    ).toMatch(/not valid/);
  });

  it('refuses a stale proof and a malformed or missing header', async () => {
    const key = await generateSigningKeyPair();
    const replays = new MemoryReplayGuard();
    const proof = await signProof(subject, key, t - 120_000);
    const check = { publicKey: key.publicKey, now: t, replays, maxSkewMs: 60_000 };
    expect(await failure(verifyProof(proof, subject, check))).toMatch(/stale/);
    expect(await failure(verifyProof(undefined, subject, check))).toMatch(/missing or malformed/);
    expect(await failure(verifyProof('v1.1.2.3', subject, check))).toMatch(/missing or malformed/);
    // A proof in the former format (no audience) is refused as malformed.
    const v1 = proof.replace(/^v2\.europe\./, 'v1.');
    expect(await failure(verifyProof(v1, subject, check))).toMatch(/missing or malformed/);
    expect(replays.size).toBe(0);
  });

  it('refuses a proof made for another center, naming both', async () => {
    const key = await generateSigningKeyPair();
    const proof = await signProof(subject, key, t);
    const replays = new MemoryReplayGuard();
    const check = { publicKey: key.publicKey, now: t, replays };
    const atAsia = { ...subject, audience: 'asia' };
    expect(await failure(verifyProof(proof, atAsia, check))).toBe(
      'proof of possession is for europe, not asia',
    );
    // Rewriting the audience in the header breaks the signature.
    const rewritten = proof.replace('v2.europe.', 'v2.asia.');
    expect(await failure(verifyProof(rewritten, atAsia, check))).toMatch(/not valid/);
    expect(replays.size).toBe(0);
  });

  it('signs only for an audience a header can carry, and refuses any other as malformed', async () => {
    const key = await generateSigningKeyPair();
    await expect(signProof({ ...subject, audience: 'eu.rope' }, key, t)).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    const proof = await signProof(subject, key, t);
    const check = { publicKey: key.publicKey, now: t, replays: new MemoryReplayGuard() };
    const upper = proof.replace('v2.europe.', 'v2.Europe.');
    expect(await failure(verifyProof(upper, subject, check))).toMatch(/missing or malformed/);
  });

  it('forgets nonces once they could no longer be fresh', async () => {
    const guard = new MemoryReplayGuard();
    const [a, b] = [sha256(new Uint8Array([1])), sha256(new Uint8Array([2]))];
    expect(await guard.admit(a, t + 10, t)).toBe(true);
    expect(await guard.admit(a, t + 10, t + 5)).toBe(false);
    expect(await guard.admit(b, t + 5_000, t + 2_000)).toBe(true);
    expect(guard.size).toBe(1);
  });
});
