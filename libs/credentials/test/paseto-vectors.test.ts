import { readFile } from 'node:fs/promises';
import { PublicProtocol } from 'paseto';
import {
  ImportPublicKeyFactory,
  ImportSecretKeyFactory,
  SignFactory,
  VerifyFactory,
} from 'paseto/v4/public';
import { describe, expect, it } from 'vitest';
import { keyIdOf, publicPaserk, secretPaserk, strictBase64url } from '../src/index.js';
import { v4localSodium as v4local } from './v4-local-sodium.js';

// The official PASETO v4 / PASERK k4 vectors (vectors/paseto/SOURCE.md).
const vectors = new URL('./vectors/paseto/', import.meta.url);

interface TokenVector {
  name: string;
  'expect-fail': boolean;
  token: string;
  payload: string | null;
  footer: string;
  'implicit-assertion': string;
  key?: string;
  'public-key'?: string;
  'secret-key'?: string;
}

interface PaserkVector {
  name: string;
  'expect-fail': boolean;
  key: string;
  paserk: string | null;
}

const load = async <T>(file: string): Promise<T[]> =>
  (JSON.parse(await readFile(new URL(file, vectors), 'utf8')) as { tests: T[] }).tests;

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

const v4public = new PublicProtocol(
  SignFactory,
  VerifyFactory,
  ImportPublicKeyFactory,
  ImportSecretKeyFactory,
);

// Vector payloads carry expired `exp` claims; the cryptography is what is under test.
const consume = (v: TokenVector) => ({
  footer: utf8(v.footer),
  implicitAssertion: utf8(v['implicit-assertion']),
  now: new Date('2022-01-01T00:00:00Z'),
});

/** Checks a token the way vitrine does for its key type, so a wrong-type key is refused. */
async function open(v: TokenVector): Promise<unknown> {
  if (v.token.startsWith('v4.public.')) {
    if (!v['public-key']) throw new Error('no public key for a public token');
    const key = await v4public.ImportPublicKey(publicPaserk(hex(v['public-key'])));
    return (await v4public.Verify(key, v.token, consume(v))).claims;
  }
  if (v.token.startsWith('v4.local.')) {
    if (!v.key) throw new Error('no local key for a local token');
    const key = await v4local.ImportKey(`k4.local.${b64(hex(v.key))}`);
    return (await v4local.Decrypt(key, v.token, consume(v))).claims;
  }
  throw new Error(`unsupported token ${v.token.slice(0, 9)}`);
}

describe('PASETO v4 vectors', async () => {
  const tests = await load<TokenVector>('v4.json');

  it('has the published vectors', () => {
    expect(tests.map((t) => t.name)).toHaveLength(17);
  });

  for (const v of tests.filter((t) => !t['expect-fail'])) {
    it(`${v.name} opens to its payload`, async () => {
      expect(await open(v)).toEqual(JSON.parse(v.payload ?? 'null'));
    });
  }

  for (const v of tests.filter((t) => t['expect-fail'])) {
    it(`${v.name} is refused`, async () => {
      await expect(open(v)).rejects.toThrow();
    });
  }

  for (const v of tests.filter((t) => t.token.startsWith('v4.public.'))) {
    if (v['expect-fail'] || !v['secret-key']) continue;
    it(`${v.name} is reproduced by signing (deterministic Ed25519)`, async () => {
      const key = await v4public.ImportSecretKey(secretPaserk(hex(v['secret-key'] ?? '')));
      const token = await v4public.Sign(key, JSON.parse(v.payload ?? '{}'), {
        footer: utf8(v.footer),
        implicitAssertion: utf8(v['implicit-assertion']),
        addIssuedAt: false,
      });
      expect(token).toBe(v.token);
    });
  }
});

describe('PASERK k4 vectors', () => {
  it('k4.pid ids match', async () => {
    for (const v of await load<PaserkVector>('PASERK/k4.pid.json')) {
      if (v['expect-fail']) {
        await expect(keyIdOf(hex(v.key))).rejects.toThrow();
      } else {
        expect(await keyIdOf(hex(v.key)), v.name).toBe(v.paserk);
      }
    }
  });

  it('k4.public serializations match', async () => {
    for (const v of await load<PaserkVector>('PASERK/k4.public.json')) {
      if (v['expect-fail']) expect(() => publicPaserk(hex(v.key)), v.name).toThrow();
      else expect(publicPaserk(hex(v.key)), v.name).toBe(v.paserk);
    }
  });

  it('k4.secret serializations match', async () => {
    for (const v of await load<PaserkVector>('PASERK/k4.secret.json')) {
      if (v['expect-fail']) expect(() => secretPaserk(hex(v.key)), v.name).toThrow();
      else expect(secretPaserk(hex(v.key)), v.name).toBe(v.paserk);
    }
  });
});

describe('strict base64url', () => {
  it('refuses padding, foreign characters and non-zero trailing bits', () => {
    expect(strictBase64url('AAE')).toEqual(new Uint8Array([0, 1]));
    expect(strictBase64url('AAE=')).toBeUndefined();
    expect(strictBase64url('AAF')).toBeUndefined();
    expect(strictBase64url('AA+E')).toBeUndefined();
    expect(strictBase64url('A')).toBeUndefined();
  });
});
