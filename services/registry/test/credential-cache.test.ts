import { generateSigningKeyPair } from '@vitrine/crypto';
import { describe, expect, it } from 'vitest';
import { CredentialCache, type VerifiedCredential } from '../src/access/credential-cache.js';

const HOUR = 3_600_000;
const issued = Date.parse('2026-03-01T10:00:00Z');

async function credential(id: string): Promise<VerifiedCredential> {
  const holder = await generateSigningKeyPair();
  return {
    id,
    keyId: 'k4.pid.test',
    subject: { kind: 'partner', id: 'acme' },
    audience: ['europe'],
    jurisdiction: 'EU',
    scope: { kinds: [], products: [], artifacts: [], actions: ['read'] },
    roles: [],
    issuedAt: new Date(issued),
    notBefore: new Date(issued),
    expiresAt: new Date(issued + HOUR),
    holderKey: holder.publicKey,
  };
}

describe('CredentialCache', () => {
  it('serves a verified credential only within its validity window, skew included', async () => {
    const cache = new CredentialCache(30);
    const c = await credential('a');
    cache.set('token-a', 1n, c);
    expect(cache.get('token-a', 1n, new Date(issued + HOUR / 2))).toBe(c);
    expect(cache.get('token-a', 1n, new Date(issued - 29_000))).toBe(c);
    expect(cache.get('token-a', 1n, new Date(issued + HOUR + 29_000))).toBe(c);
    expect(cache.get('token-a', 1n, new Date(issued + HOUR + 31_000))).toBeUndefined();
    // Once out of its window it is gone, not kept for later.
    expect(cache.size).toBe(0);
    cache.set('token-a', 1n, c);
    expect(cache.get('token-a', 1n, new Date(issued - 31_000))).toBeUndefined();
  });

  it('forgets a credential verified under another trust snapshot', async () => {
    const cache = new CredentialCache(30);
    cache.set('token-a', 1n, await credential('a'));
    expect(cache.get('token-a', 2n, new Date(issued))).toBeUndefined();
    expect(cache.get('token-a', 1n, new Date(issued))).toBeUndefined();
  });

  it('answers only for the exact token', async () => {
    const cache = new CredentialCache(30);
    cache.set('token-a', 1n, await credential('a'));
    expect(cache.get('token-A', 1n, new Date(issued))).toBeUndefined();
    expect(cache.get('token-a ', 1n, new Date(issued))).toBeUndefined();
  });

  it('holds at most its bound, dropping the least recently used', async () => {
    const cache = new CredentialCache(30, 2);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(credential));
    cache.set('a', 1n, a as VerifiedCredential);
    cache.set('b', 1n, b as VerifiedCredential);
    expect(cache.get('a', 1n, new Date(issued))).toBe(a);
    cache.set('c', 1n, c as VerifiedCredential);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 1n, new Date(issued))).toBeUndefined();
    expect(cache.get('a', 1n, new Date(issued))).toBe(a);
    expect(cache.get('c', 1n, new Date(issued))).toBe(c);
  });
});
