import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCredential, keyIdOf } from '@vitrine/credentials';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../src/index.js';
import {
  callAuthFor,
  createProfile,
  openProfile,
  profileNameOf,
  saveCredential,
} from '../src/profile.js';

/** A real credential for `holderKey`, expiring `minutes` from now. */
async function credentialFor(holderKey: Uint8Array, minutes: number): Promise<string> {
  const key = await generateSigningKeyPair();
  const now = Date.now();
  return issueCredential(
    {
      id: 'c-000000000000000000000001',
      subject: { kind: 'partner', id: 'p-000000000000' },
      audience: ['europe'],
      jurisdiction: 'EU',
      scope: { kinds: ['source'], products: [], artifacts: [], actions: ['read'] },
      roles: [],
      issuedAt: new Date(now - 3_600_000),
      notBefore: new Date(now - 3_600_000),
      expiresAt: new Date(now + minutes * 60_000),
      holderKey,
    },
    { key, keyId: await keyIdOf(key.publicKey) },
  );
}

describe('profiles', () => {
  let dir: TempDir;
  beforeEach(async () => {
    dir = await tempDir('vitrine-profile-');
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('picks --profile, then $VITRINE_PROFILE, then operator, and refuses odd names', () => {
    expect(profileNameOf({ profile: 'bund' }, { VITRINE_PROFILE: 'acme' })).toBe('bund');
    expect(profileNameOf({}, { VITRINE_PROFILE: 'acme' })).toBe('acme');
    expect(profileNameOf({}, {})).toBe('operator');
    expect(profileNameOf({}, {}, 'partner')).toBe('partner');
    expect(() => profileNameOf({ profile: '../etc' }, {})).toThrow(CliError);
  });

  it('keeps the key 0600 and the credential across reads', async () => {
    const key = await generateSigningKeyPair();
    const profile = await createProfile(dir.path, 'bund', 'partner:p-000000000000', key);
    expect((await stat(join(profile.dir, 'key.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(profile.dir, 'profile.json'))).mode & 0o777).toBe(0o600);
    const token = await credentialFor(key.publicKey, 60);
    await saveCredential(profile, token);
    const read = await openProfile(dir.path, 'bund');
    expect(read.key).toEqual(key);
    expect(read.credential).toBe(token);
    expect(await callAuthFor(read)()).toEqual({ key, credential: token });
    expect(await callAuthFor(read, 'access')()).toEqual({
      key,
      principal: 'partner:p-000000000000',
    });
  });

  it('tells a partner without a usable credential what to do, before any call', async () => {
    const key = await generateSigningKeyPair();
    const fresh = await createProfile(dir.path, 'bund', 'partner:p-000000000000', key);
    const none = await callAuthFor(fresh)().catch((e: unknown) => e);
    expect(none).toBeInstanceOf(CliError);
    expect((none as CliError).code).toBe('UNAUTHENTICATED');
    expect((none as CliError).message).toContain('vitrine access show');
    // Four minutes left is inside the renewal margin: a partner cannot renew, so it is refused.
    const expiring = await saveCredential(fresh, await credentialFor(key.publicKey, 4));
    const late = await callAuthFor(expiring)().catch((e: unknown) => e);
    expect((late as CliError).message).toContain('request access again');
  });

  it('says how to create a profile that does not exist', async () => {
    const err = await openProfile(dir.path, 'nobody').catch((e: unknown) => e);
    expect((err as CliError).code).toBe('CONFIG');
    expect((err as CliError).message).toContain('vitrine partner register --profile nobody');
  });
});
