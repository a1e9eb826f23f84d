import type { Message } from '@bufbuild/protobuf';
import { type Client, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import {
  ACCESS_AUDIENCE,
  PRINCIPAL_HEADER,
  PROOF_HEADER,
  proofSubjectOf,
  signProof,
} from '@vitrine/credentials';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import { AccessService } from '@vitrine/proto/access';
import { Health, HealthCheckResponse_ServingStatus } from '@vitrine/proto/health';
import { createGrpcClient, createGrpcClientTransport } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAccess, type TestAccess } from './harness.js';

/** A client whose proofs are made by `sign` (to forge stale, replayed or misdirected proofs). */
function forging(
  url: string,
  principal: string,
  sign: (req: Parameters<Parameters<Interceptor>[0]>[0]) => Promise<string>,
): Client<typeof AccessService> {
  const interceptor: Interceptor = (next) => async (req) => {
    req.header.set(PRINCIPAL_HEADER, principal);
    req.header.set(PROOF_HEADER, await sign(req));
    return next(req);
  };
  return createClient(
    AccessService,
    createGrpcClientTransport(url, { interceptors: [interceptor] }),
  );
}

/** What a proof for this call at the access service covers, bound to `binding`. */
const subjectOf = (req: Parameters<Parameters<Interceptor>[0]>[0], binding: string) =>
  proofSubjectOf(req, req.message as Message, ACCESS_AUDIENCE, binding);

describe.each(testBackends())('who may call the access service, on $name', (backend) => {
  let t: TestAccess;
  let partner: Awaited<ReturnType<TestAccess['registerPartner']>>;
  let principal: string;

  beforeAll(async () => {
    t = await startTestAccess(backend);
    partner = await t.registerPartner('Checked Caller', ['EU']);
    principal = `partner:${partner.partner.id}`;
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('refuses every method but WatchTrust without a principal and proof: UNAUTHENTICATED', async () => {
    const a = t.anonymous;
    const calls = [
      a.registerPartner({}),
      a.requestAccess({}),
      a.decideAccessRequest({}),
      a.listAccessRequests({}),
      a.getAccessRequest({ id: 'r-00000000000000000000' }),
      a.revoke({}),
      a.listRevocations({}),
      a.rotateKeys({}),
      a.issueOperatorCredential({}),
    ];
    for (const call of calls) expect(await grpcCodeOf(call)).toBe('UNAUTHENTICATED');
    const stream = a.watchTrust({})[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false);
    await stream.return?.();
  });

  it('keeps health and reflection open', async () => {
    const health = createGrpcClient(Health, t.access.url);
    const { status } = await health.check({ service: AccessService.typeName });
    expect(status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it('refuses an unknown principal, a wrong key and a principal with no proof', async () => {
    const stranger = await generateSigningKeyPair();
    expect(
      await grpcCodeOf(t.signedAs('partner:p-000000000000', stranger).listAccessRequests({})),
    ).toBe('UNAUTHENTICATED');
    expect(await grpcCodeOf(t.signedAs('operator:mallory', stranger).rotateKeys({}))).toBe(
      'UNAUTHENTICATED',
    );
    expect(await grpcCodeOf(t.signedAs(principal, stranger).listAccessRequests({}))).toBe(
      'UNAUTHENTICATED',
    );
    expect(await grpcCodeOf(t.signedAs('operator:root', stranger).rotateKeys({}))).toBe(
      'UNAUTHENTICATED',
    );
    const noProof = forging(t.access.url, principal, async () => '');
    const err = await noProof.listAccessRequests({}).catch((e: Error) => e);
    expect(await grpcCodeOf(Promise.reject(err))).toBe('UNAUTHENTICATED');
    expect(String(err)).toContain('vitrine-proof');
    // `partner:new` only registers.
    expect(await grpcCodeOf(t.signedAs('partner:new', partner.key).listAccessRequests({}))).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('refuses stale, replayed and misdirected proofs', async () => {
    const key: SigningKeyPair = partner.key;
    const stale = forging(t.access.url, principal, (req) =>
      signProof(subjectOf(req, principal), key, Date.now() - 5 * 60_000),
    );
    expect(await grpcCodeOf(stale.listAccessRequests({}))).toBe('UNAUTHENTICATED');

    let captured = '';
    const replaying = forging(t.access.url, principal, async (req) => {
      captured ||= await signProof(subjectOf(req, principal), key);
      return captured;
    });
    expect(await grpcCodeOf(replaying.listAccessRequests({}))).toBe('OK');
    expect(await grpcCodeOf(replaying.listAccessRequests({}))).toBe('UNAUTHENTICATED');

    // A proof for one request does not carry another (the request digest differs).
    const other = forging(t.access.url, principal, (req) =>
      signProof({ ...subjectOf(req, principal), requestDigest: new Uint8Array(32) }, key),
    );
    expect(await grpcCodeOf(other.listAccessRequests({ pageSize: 3 }))).toBe('UNAUTHENTICATED');
    // Nor does one bound to another principal.
    const rebound = forging(t.access.url, principal, (req) =>
      signProof(subjectOf(req, 'operator:root'), key),
    );
    expect(await grpcCodeOf(rebound.listAccessRequests({}))).toBe('UNAUTHENTICATED');
    // Nor one addressed to a center.
    const misdirected = forging(t.access.url, principal, (req) =>
      signProof({ ...subjectOf(req, principal), audience: 'europe' }, key),
    );
    const refusal = await misdirected.listAccessRequests({}).catch((e) => ConnectError.from(e));
    expect(refusal).toMatchObject({
      code: 16,
      rawMessage: 'proof of possession is for europe, not vitrine-access',
    });
  });

  it('registers only with a proof by the key being registered', async () => {
    const claimed = await generateSigningKeyPair();
    const signer = await generateSigningKeyPair();
    const registration = {
      organisation: 'Key Thief',
      jurisdictions: ['EU'],
      contact: 'thief@example.org',
      publicKey: claimed.publicKey,
    };
    expect(await grpcCodeOf(t.signedAs('partner:new', signer).registerPartner(registration))).toBe(
      'UNAUTHENTICATED',
    );
    // Registering is done as partner:new, not as an existing principal.
    expect(await grpcCodeOf(partner.client.registerPartner(registration))).toBe('UNAUTHENTICATED');
    expect(await grpcCodeOf(t.signedAs('partner:new', claimed).registerPartner(registration))).toBe(
      'OK',
    );
  });

  it('drops operators no longer in the config at the next start', async () => {
    const before = await grpcCodeOf(t.operator('carol').listAccessRequests({}));
    expect(before).toBe('OK');
    const operators = t.access.config.operators.filter((o) => o.name !== 'carol');
    const restarted = await startTestAccessLike(t, operators);
    expect(await grpcCodeOf(restarted.carol.listAccessRequests({}))).toBe('UNAUTHENTICATED');
    expect(await grpcCodeOf(restarted.alice.listAccessRequests({}))).toBe('OK');
  });
});

/** Restarts `t` with a different operator list, keeping the test's clients. */
async function startTestAccessLike(
  t: TestAccess,
  operators: TestAccess['access']['config']['operators'],
) {
  await t.restart({ operators: [...operators] });
  return { carol: t.operator('carol'), alice: t.operator('alice') };
}
