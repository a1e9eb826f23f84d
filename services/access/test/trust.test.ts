import { keyIdOf, readCredential, TokenKeyring, verifyTrustSnapshot } from '@vitrine/credentials';
import { SignatureError } from '@vitrine/crypto';
import {
  RequestState,
  type RevokeRequest,
  type TrustSnapshot,
  type WatchTrustResponse,
} from '@vitrine/proto/access';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessClient, startTestAccess, type TestAccess } from './harness.js';

/** Verifies a WatchTrust message under the trust key and decodes its snapshot. */
function verified(message: WatchTrustResponse, trustKey: Uint8Array): Promise<TrustSnapshot> {
  return verifyTrustSnapshot(message, trustKey);
}

/** A WatchTrust subscription that hands out snapshots as they arrive. */
function watch(client: AccessClient, trustKey: Uint8Array) {
  const controller = new AbortController();
  const stream = client
    .watchTrust({ centerId: 'europe' }, { signal: controller.signal })
    [Symbol.asyncIterator]();
  return {
    async next(): Promise<TrustSnapshot> {
      const { value, done } = await stream.next();
      if (done) throw new Error('trust stream ended');
      return verified(value, trustKey);
    },
    /** Snapshots until one satisfies `test`. */
    async until(test: (s: TrustSnapshot) => boolean): Promise<TrustSnapshot> {
      for (;;) {
        const snapshot = await this.next();
        if (test(snapshot)) return snapshot;
      }
    },
    close: () => controller.abort(),
  };
}

async function keyringOf(snapshot: TrustSnapshot): Promise<TokenKeyring> {
  const keyring = new TokenKeyring();
  await keyring.set(snapshot.keys.map((k) => k.publicKey));
  return keyring;
}

describe.each(testBackends())(
  'trust snapshots, revocation and key rotation on $name',
  (backend) => {
    let t: TestAccess;

    beforeAll(async () => {
      t = await startTestAccess(backend);
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('sends a snapshot signed by the trust key to anyone, naming the active key', async () => {
      const w = watch(t.anonymous, t.access.trustKey);
      const snapshot = await w.next();
      w.close();
      expect(snapshot.version).toBeGreaterThan(0n);
      expect(snapshot.keys.map((k) => k.publicKey)).toContainEqual(t.access.tokenKey);
      // Altered bytes do not verify.
      const message = await t.anonymous.watchTrust({})[Symbol.asyncIterator]().next();
      const tampered = {
        ...message.value,
        snapshot: new Uint8Array([...message.value.snapshot, 0]),
      };
      await expect(
        verified(tampered as WatchTrustResponse, t.access.trustKey),
      ).rejects.toBeInstanceOf(SignatureError);
    });

    it('issues operator credentials for every center with the account’s roles', async () => {
      const response = await t.operator('root').issueOperatorCredential({});
      const keyring = new TokenKeyring();
      await keyring.set([t.access.tokenKey]);
      const credential = await readCredential(response.credential, keyring);
      expect(credential.subject).toEqual({ kind: 'operator', id: 'root' });
      expect(credential.jurisdiction).toBe('*');
      expect(credential.audience).toEqual(['asia', 'europe', 'us', 'us-east']);
      expect(credential.roles).toEqual(['operator', 'approver', 'security']);
      expect(credential.expiresAt.getTime() - credential.notBefore.getTime()).toBe(12 * 3_600_000);
      const partner = await t.registerPartner('Operator Wannabe', ['US']);
      expect(await grpcCodeOf(partner.client.issueOperatorCredential({}))).toBe(
        'PERMISSION_DENIED',
      );
    });

    it('pushes a revocation to a watching center at once, with a higher version', async () => {
      const w = watch(t.anonymous, t.access.trustKey);
      const first = await w.next();
      const { credentialId } = await t.operator('ops').issueOperatorCredential({});
      const started = performance.now();
      const { revocation } = await t.operator('sec').revoke({
        target: { case: 'credentialId', value: credentialId },
        reason: 'laptop lost',
      });
      const pushed = await w.until((s) => s.revokedCredentialIds.includes(credentialId));
      const delayMs = performance.now() - started;
      w.close();
      console.log(`revocation reached the watcher ${delayMs.toFixed(1)} ms after Revoke was sent`);
      expect(pushed.version).toBeGreaterThan(first.version);
      expect(revocation?.revokedBy).toBe('operator:sec');
      // Revoking it again returns the same revocation.
      const again = await t.operator('root').revoke({
        target: { case: 'credentialId', value: credentialId },
        reason: 'again',
      });
      expect(again.revocation?.id).toBe(revocation?.id);
    });

    it('rotates keys: the old key stays trusted, so its tokens verify until they expire', async () => {
      const w = watch(t.anonymous, t.access.trustKey);
      const before = await w.next();
      const old = await t.operator('root').issueOperatorCredential({});
      const { active } = await t.operator('ops').rotateKeys({});
      const after = await w.until((s) => s.keys.some((k) => k.keyId === active?.keyId));
      w.close();
      expect(after.version).toBeGreaterThan(before.version);
      const retired = after.keys.filter((k) => k.retiredAt !== undefined).map((k) => k.keyId);
      expect(retired.length).toBeGreaterThan(0);
      const keyring = await keyringOf(after);
      const oldCredential = await readCredential(old.credential, keyring);
      expect(retired).toContain(oldCredential.keyId);
      const fresh = await t.operator('root').issueOperatorCredential({});
      expect((await readCredential(fresh.credential, keyring)).keyId).toBe(active?.keyId);
      const expired = readCredential(old.credential, keyring, {
        now: new Date(oldCredential.expiresAt.getTime() + 60_000),
      });
      await expect(expired).rejects.toMatchObject({ reason: 'expired' });
      expect(await grpcCodeOf(t.operator('alice').rotateKeys({}))).toBe('PERMISSION_DENIED');
      expect(await grpcCodeOf(t.operator('sec').rotateKeys({}))).toBe('PERMISSION_DENIED');
    });

    it('revokes a key: it leaves the snapshot and a new key signs from then on', async () => {
      const w = watch(t.anonymous, t.access.trustKey);
      await w.next();
      const signed = await t.operator('root').issueOperatorCredential({});
      const keyring = new TokenKeyring();
      await keyring.set([t.access.tokenKey]);
      const { keyId } = await readCredential(signed.credential, keyring);
      const partner = await t.registerPartner('Key Victim', ['US']);
      const { request } = await partner.client.requestAccess({
        jurisdiction: 'US',
        scope: { artifactKinds: ['rules'], actions: [1] },
        expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 },
        justification: 'rules review',
      });
      const requestId = request?.id ?? '';
      await t.operator('alice').decideAccessRequest({ requestId, approve: true, reason: 'ok' });
      const { revocation } = await t
        .operator('sec')
        .revoke({ target: { case: 'keyId', value: keyId }, reason: 'key leaked' });
      const after = await w.until((s) => !s.keys.some((k) => k.keyId === keyId));
      w.close();
      expect(after.revokedCredentialIds).toContain(signed.credentialId);
      // The partner credential that key signed reads as revoked by it, for operators.
      const { request: shown } = await t.operator('ops').getAccessRequest({ id: requestId });
      expect(after.revokedCredentialIds).toContain(shown?.credentialId);
      expect(shown?.state).toBe(RequestState.REVOKED);
      expect(shown?.revocation).toMatchObject({
        id: revocation?.id,
        target: { case: 'keyId', value: keyId },
        reason: 'key leaked',
        revokedBy: 'operator:sec',
      });
      const { requests } = await t
        .operator('ops')
        .listAccessRequests({ partnerId: partner.partner.id });
      expect(requests.map((r) => [r.state, r.revocation?.id])).toEqual([
        [RequestState.REVOKED, revocation?.id],
      ]);
      expect(after.keys.filter((k) => k.retiredAt === undefined)).toHaveLength(1);
      const next = await t.operator('root').issueOperatorCredential({});
      const nextKeyring = await keyringOf(after);
      expect((await readCredential(next.credential, nextKeyring)).keyId).not.toBe(keyId);
      await expect(readCredential(signed.credential, nextKeyring)).rejects.toMatchObject({
        reason: 'unknown_key',
      });
    });

    it('lets partners revoke their own credentials only, and lists revocations by partner', async () => {
      const partner = await t.registerPartner('Self Revoker', ['US']);
      const stranger = await t.registerPartner('Stranger', ['US']);
      const { request } = await partner.client.requestAccess({
        jurisdiction: 'US',
        scope: { artifactKinds: ['rules'], actions: [1] },
        expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 },
        justification: 'rules review',
      });
      const { request: approved } = await t
        .operator('alice')
        .decideAccessRequest({ requestId: request?.id ?? '', approve: true, reason: 'ok' });
      const credentialId = approved?.credentialId ?? '';
      const byStranger = stranger.client.revoke({
        target: { case: 'credentialId', value: credentialId },
        reason: 'not mine',
      });
      expect(await grpcCodeOf(byStranger)).toBe('PERMISSION_DENIED');
      const byApprover = t.operator('alice').revoke({
        target: { case: 'credentialId', value: credentialId },
        reason: 'approvers do not revoke',
      });
      expect(await grpcCodeOf(byApprover)).toBe('PERMISSION_DENIED');
      const keyByPartner = partner.client.revoke({
        target: { case: 'keyId', value: await keyIdOf(t.access.tokenKey) },
        reason: 'no',
      });
      expect(await grpcCodeOf(keyByPartner)).toBe('PERMISSION_DENIED');
      const own = await partner.client.revoke({
        target: { case: 'credentialId', value: credentialId },
        reason: 'finished early',
      });
      expect(own.revocation?.revokedBy).toBe(`partner:${partner.partner.id}`);
      const all = await t.operator('sec').revoke({
        target: { case: 'partnerId', value: partner.partner.id },
        reason: 'contract ended',
      });
      const { revocations } = await t
        .operator('ops')
        .listRevocations({ partnerId: partner.partner.id });
      expect(revocations.map((r) => r.id)).toEqual([all.revocation?.id, own.revocation?.id]);
      const { revocations: theirs } = await partner.client.listRevocations({});
      expect(theirs).toHaveLength(2);
      const peek = stranger.client.listRevocations({ partnerId: partner.partner.id });
      expect(await grpcCodeOf(peek)).toBe('PERMISSION_DENIED');
    });

    it('tells anyone watching revoked credential ids only: no reason, actor or partner', async () => {
      const organisation = 'Snapshot Privacy Regulator';
      const partner = await t.registerPartner(organisation, ['US']);
      const credentialIds: string[] = [];
      for (const justification of ['first review', 'second review']) {
        const { request } = await partner.client.requestAccess({
          jurisdiction: 'US',
          scope: { artifactKinds: ['rules'], actions: [1] },
          expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 },
          justification,
        });
        const { request: approved } = await t
          .operator('alice')
          .decideAccessRequest({ requestId: request?.id ?? '', approve: true, reason: 'ok' });
        credentialIds.push(approved?.credentialId ?? '');
      }
      const [first, second] = credentialIds as [string, string];
      const reasons = ['tablet left in a taxi', 'contract with the regulator ended'];
      await partner.client.revoke({
        target: { case: 'credentialId', value: first },
        reason: reasons[0] as string,
      });
      const w = watch(t.anonymous, t.access.trustKey);
      await t.operator('sec').revoke({
        target: { case: 'partnerId', value: partner.partner.id },
        reason: reasons[1] as string,
      });
      const snapshot = await w.until((s) => s.revokedCredentialIds.includes(second));
      w.close();
      expect(snapshot.revokedCredentialIds).toContain(first);
      const raw = await t.anonymous.watchTrust({})[Symbol.asyncIterator]().next();
      const text = Buffer.from(raw.value.snapshot).toString('latin1');
      expect(text).toContain(second);
      for (const secret of [
        ...reasons,
        'operator:sec',
        `partner:${partner.partner.id}`,
        partner.partner.id,
        organisation,
        partner.partner.contact,
      ]) {
        expect(text).not.toContain(secret);
      }
      // Operators still see who revoked what and why.
      const { revocations } = await t
        .operator('sec')
        .listRevocations({ partnerId: partner.partner.id });
      expect(revocations.map((r) => [r.reason, r.revokedBy])).toEqual([
        [reasons[1], 'operator:sec'],
        [reasons[0], `partner:${partner.partner.id}`],
      ]);
    });

    it('refuses malformed and unknown revocation targets', async () => {
      const revoke = (target: RevokeRequest['target'], reason = 'r') =>
        t.operator('sec').revoke({ target, reason });
      expect(await grpcCodeOf(revoke({ case: undefined }))).toBe('INVALID_ARGUMENT');
      expect(await grpcCodeOf(revoke({ case: 'credentialId', value: 'x' }))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(await grpcCodeOf(revoke({ case: 'keyId', value: 'k4.pid.short' }))).toBe(
        'INVALID_ARGUMENT',
      );
      expect(
        await grpcCodeOf(revoke({ case: 'credentialId', value: `c-${'0'.repeat(24)}` }, '')),
      ).toBe('INVALID_ARGUMENT');
      expect(await grpcCodeOf(revoke({ case: 'credentialId', value: `c-${'0'.repeat(24)}` }))).toBe(
        'NOT_FOUND',
      );
      expect(await grpcCodeOf(revoke({ case: 'partnerId', value: 'p-000000000000' }))).toBe(
        'NOT_FOUND',
      );
    });

    it('keeps the version growing across restarts, with revocations and keys kept', async () => {
      const w = watch(t.anonymous, t.access.trustKey);
      const before = await w.next();
      w.close();
      await t.restart();
      const again = watch(t.anonymous, t.access.trustKey);
      const after = await again.next();
      again.close();
      expect(after.version).toBeGreaterThan(before.version);
      expect(after.revokedCredentialIds).toEqual(before.revokedCredentialIds);
      expect(after.keys.map((k) => k.keyId)).toEqual(before.keys.map((k) => k.keyId));
    });
  },
);
