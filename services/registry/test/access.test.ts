import { stat } from 'node:fs/promises';
import { fromBinary } from '@bufbuild/protobuf';
import { type Client, ConnectError, type Interceptor } from '@connectrpc/connect';
import {
  CREDENTIAL_HEADER,
  callAuthInterceptor,
  keyIdOf,
  PROOF_HEADER,
  signProof,
} from '@vitrine/credentials';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { openEvent } from '@vitrine/events';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { AccessOutcome, type AccessUsed, EventBodySchema } from '@vitrine/proto/event';
import { Severity } from '@vitrine/proto/finding';
import { Health } from '@vitrine/proto/health';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, type TestCaller, type TestGrant, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, trustFilePath } from '../src/index.js';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

const HOUR = 3_600_000;

describe.each(testBackends())('access enforcement at a registry on $name', (backend) => {
  let t: TestRegistry;
  let source = '';
  let update = '';
  let finding = '';
  const clientOf = (caller: TestCaller, ...more: Interceptor[]) =>
    createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe'), ...more],
    });
  const partner = (grant: Partial<TestGrant> = {}) =>
    t.trust.partner({ partner: 'acme', jurisdiction: 'EU', audience: ['europe'], ...grant });
  const read = (client: Client<typeof RegistryService>) => client.getArtifact({ id: source });

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    const push = (kind: ArtifactKind, product: string) =>
      t.client.pushArtifact(
        uploadOf({ kind, product, version: '1', residency: ['EU'] }, randomContent(5_000)),
      );
    source = (await push(ArtifactKind.SOURCE, 'agent')).artifact?.id ?? '';
    update = (await push(ArtifactKind.UPDATE, 'agent')).artifact?.id ?? '';
    const created = await t.client.createFinding({
      artifactIds: [source],
      title: 'Debug port open',
      severity: Severity.LOW,
    });
    finding = created.finding?.id ?? '';
  });
  afterAll(() => t.cleanup());

  it('allows a partner within its grant and names it as the actor', async () => {
    const client = clientOf(await partner({ scope: { actions: ['read', 'comment'] } }));
    expect((await read(client)).artifact?.id).toBe(source);
    const { comment } = await client.addComment({ findingId: finding, text: 'seen' });
    expect(comment?.author).toBe('partner:acme');
  });

  it('check 1: no credential, a foreign key or a forged token is UNAUTHENTICATED', async () => {
    expect(await grpcCodeOf(read(createGrpcClient(RegistryService, t.registry.url)))).toBe(
      'UNAUTHENTICATED',
    );
    const foreign = await generateSigningKeyPair();
    const signer = { key: foreign, keyId: await keyIdOf(foreign.publicKey) };
    expect(await grpcCodeOf(read(clientOf(await partner({ signer }))))).toBe('UNAUTHENTICATED');
    const genuine = await partner();
    const forged = { ...genuine, credential: tamper(genuine.credential) };
    const refusal = await read(clientOf(forged)).catch((e) => ConnectError.from(e));
    expect(refusal).toMatchObject({ code: 16, rawMessage: 'credential signature is not valid' });
  });

  it('check 2: an expired or not yet valid credential is UNAUTHENTICATED', async () => {
    const now = Date.now();
    const expired = await partner({
      notBefore: new Date(now - 2 * HOUR),
      expiresAt: new Date(now - HOUR),
    });
    expect(await grpcCodeOf(read(clientOf(expired)))).toBe('UNAUTHENTICATED');
    const early = await partner({
      notBefore: new Date(now + HOUR),
      expiresAt: new Date(now + 2 * HOUR),
    });
    expect(await grpcCodeOf(read(clientOf(early)))).toBe('UNAUTHENTICATED');
  });

  it('check 3: a credential whose audience lacks this center is PERMISSION_DENIED', async () => {
    expect(await grpcCodeOf(read(clientOf(await partner({ audience: ['us'] }))))).toBe(
      'PERMISSION_DENIED',
    );
  });

  it('check 4: another jurisdiction, or `*` on a partner, is PERMISSION_DENIED', async () => {
    expect(await grpcCodeOf(read(clientOf(await partner({ jurisdiction: 'US' }))))).toBe(
      'PERMISSION_DENIED',
    );
    expect(await grpcCodeOf(read(clientOf(await partner({ jurisdiction: '*' }))))).toBe(
      'PERMISSION_DENIED',
    );
  });

  it('check 5: a revoked credential, or one whose key left the snapshot, is UNAUTHENTICATED', async () => {
    const byId = await partner();
    expect(await grpcCodeOf(read(clientOf(byId)))).toBe('OK');
    await t.trust.revoke(byId.id);
    await refusedSoon(() => read(clientOf(byId)));
    const spare = await generateSigningKeyPair();
    await t.trust.setKeys([t.trust.tokenSigner.key, spare]);
    const signer = { key: spare, keyId: await keyIdOf(spare.publicKey) };
    const bySpare = await partner({ signer });
    await allowedSoon(() => read(clientOf(bySpare)));
    await t.trust.setKeys([t.trust.tokenSigner.key]);
    await refusedSoon(() => read(clientOf(bySpare)));
  });

  it('check 6: a missing, foreign, stale, misdirected or replayed proof is UNAUTHENTICATED', async () => {
    const caller = await partner();
    const bare: Interceptor = (next) => (req) => {
      req.header.set(CREDENTIAL_HEADER, `Bearer ${caller.credential}`);
      return next(req);
    };
    expect(
      await grpcCodeOf(
        read(createGrpcClient(RegistryService, t.registry.url, { interceptors: [bare] })),
      ),
    ).toBe('UNAUTHENTICATED');
    const stranger = { ...caller, key: await generateSigningKeyPair() };
    expect(await grpcCodeOf(read(clientOf(stranger)))).toBe('UNAUTHENTICATED');
    const stale: Interceptor = (next) => async (req) => {
      const proof = req.header.get(PROOF_HEADER) ?? '';
      const [, , , nonce] = proof.split('.');
      const old = await signProof(
        { audience: 'europe', procedure: '/x', binding: 'y', requestDigest: new Uint8Array(32) },
        caller.key,
        Date.now() - 10 * 60_000,
      );
      req.header.set(
        PROOF_HEADER,
        old.replace(/^v2\.europe\.\d+\.[^.]+/, `v2.europe.${Date.now() - 600_000}.${nonce}`),
      );
      return next(req);
    };
    expect(await grpcCodeOf(read(clientOf(caller, stale)))).toBe('UNAUTHENTICATED');
    // Made by the holder for another center: refused here, naming both.
    const elsewhere = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'asia')],
    });
    const misdirected = await read(elsewhere).catch((e) => ConnectError.from(e));
    expect(misdirected).toMatchObject({
      code: 16,
      rawMessage: 'proof of possession is for asia, not europe',
    });
    let captured: string | undefined;
    const replay: Interceptor = (next) => (req) => {
      captured ??= req.header.get(PROOF_HEADER) ?? undefined;
      if (captured) req.header.set(PROOF_HEADER, captured);
      return next(req);
    };
    const replaying = clientOf(caller, replay);
    expect(await grpcCodeOf(read(replaying))).toBe('OK');
    const again = await read(replaying).catch((e) => ConnectError.from(e));
    expect(again).toMatchObject({ code: 16, rawMessage: 'proof of possession was replayed' });
  });

  it('check 7: scope must cover the artifact (NOT_FOUND to a partner) and action (PERMISSION_DENIED); lists are filtered', async () => {
    const updatesOnly = clientOf(
      await partner({ scope: { kinds: ['update'], actions: ['read'] } }),
    );
    expect(await grpcCodeOf(read(updatesOnly))).toBe('NOT_FOUND');
    expect(await grpcCodeOf(updatesOnly.getArtifact({ id: update }))).toBe('OK');
    const listed = await updatesOnly.listArtifacts({});
    expect(listed.artifacts.map((a) => a.id)).toEqual([update]);
    // A short id resolves only among the artifacts the caller may read.
    expect((await updatesOnly.listArtifacts({ idPrefix: source.slice(0, 8) })).artifacts).toEqual(
      [],
    );
    const byPrefix = await updatesOnly.listArtifacts({ idPrefix: update.slice(0, 8) });
    expect(byPrefix.artifacts.map((a) => a.id)).toEqual([update]);
    expect((await updatesOnly.listFindings({})).findings).toEqual([]);
    expect(await grpcCodeOf(updatesOnly.getFinding({ id: finding }))).toBe('NOT_FOUND');
    const reader = clientOf(await partner({ scope: { actions: ['read'] } }));
    expect((await reader.listFindings({})).findings.map((f) => f.id)).toContain(finding);
    expect(await grpcCodeOf(reader.addComment({ findingId: finding, text: 'x' }))).toBe(
      'PERMISSION_DENIED',
    );
    expect(
      await grpcCodeOf(
        reader.createFinding({ artifactIds: [source], title: 'x', severity: Severity.LOW }),
      ),
    ).toBe('PERMISSION_DENIED');
    expect(
      await grpcCodeOf(
        reader.pushArtifact(
          uploadOf({ kind: ArtifactKind.SOURCE, product: 'p', version: '1' }, randomContent(10)),
        ),
      ),
    ).toBe('PERMISSION_DENIED');
  });

  it('checks in order: audience before proof, revocation before proof and scope', async () => {
    const wrongCenter = await partner({ audience: ['us'] });
    const noProof = { ...wrongCenter, key: await generateSigningKeyPair() };
    expect(await grpcCodeOf(read(clientOf(noProof)))).toBe('PERMISSION_DENIED');
    const narrow = await partner({ scope: { kinds: ['update'], actions: ['read'] } });
    await t.trust.revoke(narrow.id);
    await refusedSoon(() => read(clientOf(narrow)));
    // Revocation before the proof: a revoked credential's proof for another center is
    // refused as revoked. Within check 6, the signature before the center it names.
    const misdirected = await read(
      createGrpcClient(RegistryService, t.registry.url, {
        interceptors: [callAuthInterceptor(() => narrow, 'asia')],
      }),
    ).catch((e) => ConnectError.from(e));
    expect(misdirected).toMatchObject({ code: 16, rawMessage: 'credential has been revoked' });
    const forged: Interceptor = (next) => (req) => {
      const proof = req.header.get(PROOF_HEADER) ?? '';
      req.header.set(PROOF_HEADER, proof.replace(/^v2\.europe\./, 'v2.asia.'));
      return next(req);
    };
    const rewritten = await read(clientOf(await partner(), forged)).catch((e) =>
      ConnectError.from(e),
    );
    expect(rewritten).toMatchObject({ code: 16, rawMessage: 'proof of possession is not valid' });
  });

  it('leaves health and reflection open', async () => {
    const health = createGrpcClient(Health, t.registry.url);
    expect((await health.check({ service: RegistryService.typeName })).status).toBe(1);
  });

  it('records partner calls, allowed and refused, as AccessUsed events', async () => {
    const caller = await partner({
      partner: 'initech',
      scope: { kinds: ['update'], actions: ['read'] },
    });
    await read(clientOf(caller)).catch(() => undefined);
    await clientOf(caller).getArtifact({ id: update });
    const uses = (await accessUses(t)).filter((u) => u.use.principal === 'partner:initech');
    expect(uses.map((u) => [u.use.outcome, u.use.refusalCode, u.use.artifactId])).toEqual([
      [AccessOutcome.REFUSED, 5, source],
      [AccessOutcome.ALLOWED, 0, update],
    ]);
    expect(uses[0]?.use.refusalReason).toBe(`credential does not allow read on artifact ${source}`);
    expect(uses[0]?.use).toMatchObject({
      credentialId: caller.id,
      method: '/vitrine.registry.v1.RegistryService/GetArtifact',
    });
    expect(uses[0]?.residency).toEqual(['EU']);
    // Operator calls and calls nobody can be attributed to are not recorded.
    expect((await accessUses(t)).every((u) => u.use.principal.startsWith('partner:'))).toBe(true);
  });

  it('records nothing for calls refused before the proof of possession verified', async () => {
    const victim = await partner({ partner: 'victim' });
    const copied: Interceptor = (next) => (req) => {
      req.header.set(CREDENTIAL_HEADER, `Bearer ${victim.credential}`);
      return next(req);
    };
    const withoutKey = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [copied],
    });
    const withWrongKey = clientOf({ ...victim, key: await generateSigningKeyPair() });
    const now = Date.now();
    const expired = await partner({
      partner: 'victim',
      notBefore: new Date(now - 2 * HOUR),
      expiresAt: new Date(now - HOUR),
    });
    const elsewhere = await partner({ partner: 'victim', audience: ['us'] });
    const revoked = await partner({ partner: 'victim' });
    await t.trust.revoke(revoked.id);
    await refusedSoon(() => read(clientOf(revoked)));
    const victimUses = () => countUses(t, 'partner:victim');
    const before = await victimUses();
    const refusals = [];
    for (let i = 0; i < 5; i++) {
      refusals.push(await grpcCodeOf(read(withoutKey)));
      refusals.push(await grpcCodeOf(read(withWrongKey)));
      refusals.push(await grpcCodeOf(read(clientOf(expired))));
      refusals.push(await grpcCodeOf(read(clientOf(revoked))));
      refusals.push(await grpcCodeOf(read(clientOf(elsewhere))));
    }
    expect(new Set(refusals)).toEqual(new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED']));
    expect(await victimUses()).toBe(before);
    // The key's holder is still recorded.
    expect(await grpcCodeOf(read(clientOf(victim)))).toBe('OK');
    expect(await victimUses()).toBe(before + 1);
  });

  it('refuses a credential already verified once its token key leaves the trust snapshot', async () => {
    const spare = await generateSigningKeyPair();
    const signer = { key: spare, keyId: await keyIdOf(spare.publicKey) };
    const caller = await partner({ signer });
    await t.trust.setKeys([t.trust.tokenSigner.key, spare]);
    await allowedSoon(() => read(clientOf(caller)));
    expect(await grpcCodeOf(read(clientOf(caller)))).toBe('OK');
    await t.trust.setKeys([t.trust.tokenSigner.key]);
    await refusedSoon(() => read(clientOf(caller)));
    const refusal = await read(clientOf(caller)).catch((e) => ConnectError.from(e));
    expect(refusal).toMatchObject({
      code: 16,
      rawMessage: 'credential is signed by an unknown key',
    });
  });

  it('verifies offline after a restart with the access service down, revocations included', async () => {
    const kept = await partner();
    const revoked = await partner();
    await t.trust.revoke(revoked.id);
    await refusedSoon(() => read(clientOf(revoked)));
    await t.trust.close();
    await t.restart();
    expect(await grpcCodeOf(read(clientOf(kept)))).toBe('OK');
    expect(await grpcCodeOf(read(clientOf(revoked)))).toBe('UNAUTHENTICATED');
    expect((await stat(trustFilePath(t.dataDir))).mode & 0o777).toBe(0o600);
  });
});

describe('a registry without access settings', () => {
  it('refuses to start, naming the access block', async () => {
    const config = {
      center: { id: 'europe', jurisdiction: 'EU' },
      jurisdictions: ['EU'],
      listen: { port: 0 },
      dataDir: '/nonexistent',
    };
    await expect(startRegistry(config as never)).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^invalid registry config: access: /),
    });
  });

  it('refuses a first-snapshot wait that is negative or over ten minutes', async () => {
    for (const firstSnapshotWaitMs of [-1, 600_001]) {
      const config = {
        center: { id: 'europe', jurisdiction: 'EU' },
        jurisdictions: ['EU'],
        listen: { port: 0 },
        dataDir: '/nonexistent',
        access: {
          url: 'http://127.0.0.1:1',
          trustKey: Buffer.alloc(32, 7).toString('base64'),
          firstSnapshotWaitMs,
        },
      };
      await expect(startRegistry(config)).rejects.toMatchObject({
        code: 'invalid_argument',
        message: expect.stringMatching(/^invalid registry config: access\.firstSnapshotWaitMs: /),
      });
    }
  });
});

/** A token with one character of its signed part changed. */
function tamper(token: string): string {
  const at = 20;
  const swapped = token[at] === 'A' ? 'B' : 'A';
  return token.slice(0, at) + swapped + token.slice(at + 1);
}

/** Waits until the call succeeds (new token keys reach the center). */
async function allowedSoon(call: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await grpcCodeOf(call())) !== 'OK') {
    if (Date.now() > deadline) throw new Error('still refused 5 s after the key was published');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the call is refused UNAUTHENTICATED (a revocation reaches the center). */
async function refusedSoon(call: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const code = await grpcCodeOf(call());
    if (code === 'UNAUTHENTICATED') return;
    if (Date.now() > deadline) throw new Error(`still ${code} 5 s after the revocation`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** How many AccessUsed events name `principal`. */
async function countUses(t: TestRegistry, principal: string): Promise<number> {
  return (await accessUses(t)).filter((u) => u.use.principal === principal).length;
}

/** Every AccessUsed event in the registry's log, in order, with its residency. */
async function accessUses(t: TestRegistry) {
  const stop = new AbortController();
  const uses: { use: AccessUsed; residency: string[] }[] = [];
  let idle = setTimeout(() => stop.abort(), 300);
  for await (const signed of t.registry.replica.feed(
    { id: 'audit', jurisdiction: 'EU' },
    new Map(),
    stop.signal,
  )) {
    clearTimeout(idle);
    idle = setTimeout(() => stop.abort(), 300);
    const { header } = await openEvent(
      signed.header,
      signed.signature,
      signed.body,
      () => t.registry.publicKey,
    );
    const body = fromBinary(EventBodySchema, signed.body);
    if (body.change.case === 'accessUsed')
      uses.push({ use: body.change.value, residency: header.residency });
  }
  return uses;
}
