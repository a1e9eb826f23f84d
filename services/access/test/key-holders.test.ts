import { generateSigningKeyPair } from '@vitrine/crypto';
import { isVitrineError } from '@vitrine/errors';
import { codeName, grpcCodeFor } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEWCOMER } from '../src/index.js';
import { partnerIdOf } from '../src/partners.js';
import { startTestAccess, type TestAccess } from './harness.js';

/** The gRPC code name a refused start maps to, as a client would have seen it. */
function codeOfStart(err: unknown): string {
  if (!isVitrineError(err)) throw err;
  return codeName(grpcCodeFor(err.code));
}

describe.each(testBackends())('a key holds one principal, on $name', (backend) => {
  let t: TestAccess;

  beforeAll(async () => {
    t = await startTestAccess(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('refuses registering an operator’s key as a partner: ALREADY_EXISTS', async () => {
    const key = t.operatorKey('ops');
    const registration = {
      organisation: 'Operator In Disguise',
      jurisdictions: ['US'],
      contact: 'ops@vendor.example',
      publicKey: key.publicKey,
    };
    const refused = t.signedAs(NEWCOMER, key).registerPartner(registration);
    expect(await grpcCodeOf(refused)).toBe('ALREADY_EXISTS');
    // No partner holds the key: the operator cannot act as one.
    const asPartner = t.signedAs(`partner:${partnerIdOf(key.publicKey)}`, key);
    expect(await grpcCodeOf(asPartner.requestAccess({ jurisdiction: 'US' }))).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('refuses registering a partner’s key twice: ALREADY_EXISTS', async () => {
    const { key } = await t.registerPartner('First Holder', ['US']);
    const again = t.signedAs(NEWCOMER, key).registerPartner({
      organisation: 'Second Holder',
      jurisdictions: ['US'],
      contact: 'second@holder.example',
      publicKey: key.publicKey,
    });
    expect(await grpcCodeOf(again)).toBe('ALREADY_EXISTS');
  });

  it('refuses to start with an operator whose key a partner holds: FAILED_PRECONDITION', async () => {
    const { partner, key } = await t.registerPartner('Future Operator', ['US']);
    const operators = [
      ...t.access.config.operators,
      { name: 'turncoat', roles: ['approver' as const], publicKey: b64(key.publicKey) },
    ];
    const refused = await t.restart({ operators }).catch((err: unknown) => err);
    expect(codeOfStart(refused)).toBe('FAILED_PRECONDITION');
    expect(String(refused)).toContain(`partner ${partner.id}`);
    // Nothing changed: with the config as it was, the service starts and the account is absent.
    await t.restart();
    const turncoat = t.signedAs('operator:turncoat', key);
    expect(await grpcCodeOf(turncoat.listAccessRequests({}))).toBe('UNAUTHENTICATED');
    expect(await grpcCodeOf(t.operator('alice').listAccessRequests({}))).toBe('OK');
  });

  it('refuses a config giving two operators one key: INVALID_ARGUMENT', async () => {
    const shared = b64((await generateSigningKeyPair()).publicKey);
    const operators = [
      ...t.access.config.operators,
      { name: 'twin-a', roles: ['approver' as const], publicKey: shared },
      { name: 'twin-b', roles: ['approver' as const], publicKey: shared },
    ];
    const refused = await t.restart({ operators }).catch((err: unknown) => err);
    expect(codeOfStart(refused)).toBe('INVALID_ARGUMENT');
    expect(String(refused)).toContain('a key may hold one principal');
    await t.restart();
  });
});

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
