import { generateSigningKeyPair, signDetached } from '@vitrine/crypto';
import type { InvalidArgumentError } from '@vitrine/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SignedManifest, signManifest, verifyManifest } from '../src/index.js';
import { member, type TestFederation, testFederation } from './federation-fixture.js';

const DOMAIN = 'vitrine/federation-manifest/v1\n';

let fed: TestFederation;
beforeAll(async () => {
  fed = await testFederation();
});

/** Signs arbitrary text as the root would, to reach the checks after the signature. */
async function rootSigned(text: string): Promise<SignedManifest> {
  const signature = await signDetached(fed.root, DOMAIN, new TextEncoder().encode(text));
  return { manifest: text, signature: Buffer.from(signature).toString('base64') };
}

/** The fields an `invalid_argument` names, after asserting the code. */
async function badFields(promise: Promise<unknown>): Promise<string[]> {
  const err = (await promise.then(
    () => expect.fail('expected invalid_argument'),
    (e: unknown) => e,
  )) as InvalidArgumentError;
  expect(err.code).toBe('invalid_argument');
  return err.violations.map((v) => v.field);
}

describe('signManifest', () => {
  it('serialises canonically: sorted keys, no whitespace, same text for the same document', async () => {
    const { manifest } = fed.signed;
    expect(manifest.startsWith('{"access":{"tokenKeys":[{"keyId":"k1","publicKey":"')).toBe(true);
    expect(manifest).not.toMatch(/\s/);
    const reordered = { ...fed.document, centers: fed.document.centers, version: 1 as const };
    expect((await signManifest(reordered, fed.root)).manifest).toBe(manifest);
  });

  it('refuses a malformed document before signing, naming every bad field', async () => {
    const doc = structuredClone(fed.document);
    (doc.centers[0] as { kxKey: string }).kxKey = 'AAAA';
    (doc.centers[1] as { registry: string }).registry = 'ftp://registry.example';
    (doc as { issuedAt: string }).issuedAt = 'yesterday';
    expect(await badFields(signManifest(doc, fed.root))).toEqual([
      'issuedAt',
      'centers.0.kxKey',
      'centers.1.registry',
    ]);
  });
});

describe('verifyManifest', () => {
  it('returns a frozen manifest with lookups by id and by signing key', async () => {
    const m = fed.manifest;
    const us = member(fed, 'us');
    expect(m.federation).toBe('vitrine-test');
    expect(m.text).toBe(fed.signed.manifest);
    expect(m.centers.map((c) => c.id)).toEqual(['asia', 'europe', 'us']);
    expect(m.center('europe')?.jurisdiction).toBe('EU');
    expect(m.center('us')?.kxKey).toEqual(us.keys.kx.publicKey);
    expect(m.centerBySigningKey(us.keys.signing.publicKey)?.id).toBe('us');
    expect(m.center('mars')).toBeUndefined();
    expect(m.centerBySigningKey(new Uint8Array(32))).toBeUndefined();
    expect(m.access.tokenKeys[0]?.publicKey).toHaveLength(32);
    for (const part of [m, m.centers, m.centers[0], m.access, m.access.tokenKeys]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });

  it('names the access service’s trust key when the document gives one, and refuses a bad one', async () => {
    expect(fed.manifest.access.trustKey).toBeUndefined();
    const trust = await generateSigningKeyPair();
    const doc = structuredClone(fed.document);
    const access = doc.access as { trustKey?: string };
    access.trustKey = Buffer.from(trust.publicKey).toString('base64');
    const signed = await signManifest(doc, fed.root);
    const m = await verifyManifest(signed, fed.root.publicKey);
    expect(Buffer.from(m.access.trustKey ?? [])).toEqual(Buffer.from(trust.publicKey));
    access.trustKey = 'AAAA';
    expect(await badFields(signManifest(doc, fed.root))).toEqual(['access.trustKey']);
  });

  it('refuses tampered text as unauthenticated', async () => {
    const manifest = fed.signed.manifest.replace('"jurisdiction":"EU"', '"jurisdiction":"US"');
    expect(manifest).not.toBe(fed.signed.manifest);
    await expect(
      verifyManifest({ ...fed.signed, manifest }, fed.root.publicKey),
    ).rejects.toMatchObject({ code: 'unauthenticated', message: 'signature verification failed' });
  });

  it('refuses another root, an altered signature and a signature of the wrong size', async () => {
    const other = await generateSigningKeyPair();
    await expect(verifyManifest(fed.signed, other.publicKey)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    const sig = Buffer.from(fed.signed.signature, 'base64');
    sig[10] = (sig[10] ?? 0) ^ 1;
    for (const signature of [sig.toString('base64'), 'AAAA', '']) {
      await expect(
        verifyManifest({ ...fed.signed, signature }, fed.root.publicKey),
      ).rejects.toMatchObject({ code: 'unauthenticated' });
    }
  });

  it('checks the signature before reading the text', async () => {
    const signed = { manifest: '{not json', signature: fed.signed.signature };
    await expect(verifyManifest(signed, fed.root.publicKey)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('refuses a root-signed but malformed manifest as invalid_argument naming the fields', async () => {
    const doc = JSON.parse(fed.signed.manifest) as Record<string, unknown>;
    const centers = doc.centers as Record<string, unknown>[];
    doc.version = 2;
    (centers[1] as Record<string, unknown>).signingKey = Buffer.alloc(31).toString('base64');
    (centers[2] as Record<string, unknown>).id = 'Asia Pacific';
    (centers[2] as Record<string, unknown>).extra = true;
    const signed = await rootSigned(JSON.stringify(doc));
    expect(await badFields(verifyManifest(signed, fed.root.publicKey))).toEqual([
      'version',
      'centers.1.signingKey',
      'centers.2.id',
      'centers.2',
    ]);
  });

  it('refuses duplicate ids and keys', async () => {
    const doc = JSON.parse(fed.signed.manifest) as { centers: Record<string, string>[] };
    const [asia, europe] = doc.centers as [Record<string, string>, Record<string, string>];
    europe.id = 'asia';
    europe.kxKey = asia.kxKey as string;
    const signed = await rootSigned(JSON.stringify(doc));
    expect(await badFields(verifyManifest(signed, fed.root.publicKey))).toEqual([
      'centers.1.id',
      'centers.1.kxKey',
    ]);
  });

  it('refuses root-signed text that is not JSON or not canonical', async () => {
    const notJson = await rootSigned('{"version":1');
    expect(await badFields(verifyManifest(notJson, fed.root.publicKey))).toEqual(['manifest']);
    const pretty = await rootSigned(JSON.stringify(JSON.parse(fed.signed.manifest), null, 2));
    expect(await badFields(verifyManifest(pretty, fed.root.publicKey))).toEqual(['manifest']);
  });

  it('refuses an envelope without text or signature', async () => {
    const envelope = { manifest: 7, signature: null } as unknown as SignedManifest;
    expect(await badFields(verifyManifest(envelope, fed.root.publicKey))).toEqual([
      'manifest',
      'signature',
    ]);
  });
});
