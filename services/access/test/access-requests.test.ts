import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { readCredential } from '@vitrine/credentials';
import { Action, RequestState } from '@vitrine/proto/access';
import { grpcCodeOf, TestClock, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessClient, startTestAccess, type TestAccess } from './harness.js';

const HOUR_MS = 3_600_000;

/** The access service's clock and its clients': moved by the tests, never read from the machine. */
const clock = new TestClock('2026-03-02T09:00:00Z');

/** The time `hours` from the clock's now, as a Timestamp. */
function hoursFromNow(hours: number) {
  return timestampFromDate(clock.in(hours * HOUR_MS));
}

/** A request for EU source snapshots of router-os, read and review, for `hours`. */
function euRequest(hours = 48, extra: Record<string, unknown> = {}) {
  return {
    jurisdiction: 'EU',
    scope: {
      artifactKinds: ['source'],
      products: ['router-os'],
      actions: [Action.READ, Action.REVIEW],
    },
    expiresAt: hoursFromNow(hours),
    justification: 'Annual review of router-os 4.x under the EU certification scheme',
    ...extra,
  };
}

describe.each(testBackends())('access requests on $name', (backend) => {
  let t: TestAccess;
  let regulator: Awaited<ReturnType<TestAccess['registerPartner']>>;
  let other: Awaited<ReturnType<TestAccess['registerPartner']>>;
  const requestAs = async (client: AccessClient, body = euRequest()) => {
    const { request } = await client.requestAccess(body);
    if (!request) throw new Error('no request returned');
    return request;
  };

  beforeAll(async () => {
    t = await startTestAccess(backend, {}, { now: clock.now });
    regulator = await t.registerPartner('Bundesamt Review', ['EU', 'US']);
    other = await t.registerPartner('Other Regulator', ['EU']);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('registers a partner with its organisation, jurisdictions, contact and key', () => {
    expect(regulator.partner.id).toMatch(/^p-[0-9a-f]{12}$/);
    expect(regulator.partner.organisation).toBe('Bundesamt Review');
    expect(regulator.partner.jurisdictions).toEqual(['EU', 'US']);
    expect(regulator.partner.publicKey).toEqual(regulator.key.publicKey);
  });

  it('refuses a second registration of the same key with ALREADY_EXISTS', async () => {
    const again = t.signedAs('partner:new', regulator.key).registerPartner({
      organisation: 'Bundesamt Review',
      jurisdictions: ['EU'],
      contact: 'x@example.org',
      publicKey: regulator.key.publicKey,
    });
    expect(await grpcCodeOf(again)).toBe('ALREADY_EXISTS');
  });

  it('refuses a malformed registration with INVALID_ARGUMENT naming every bad field', async () => {
    const err = await t
      .signedAs('partner:new', regulator.key)
      .registerPartner({
        organisation: ' ',
        jurisdictions: ['MARS'],
        contact: '',
        publicKey: new Uint8Array(31),
      })
      .catch((e: Error) => e);
    expect(await grpcCodeOf(Promise.reject(err))).toBe('INVALID_ARGUMENT');
    for (const field of ['organisation', 'contact', 'jurisdictions[0]', 'public_key']) {
      expect(String(err)).toContain(field);
    }
  });

  it('approves after two distinct approvers and issues a credential capped by the policy', async () => {
    const request = await requestAs(regulator.client);
    expect(request.state).toBe(RequestState.PENDING);
    expect(request.requestedBy).toBe(`partner:${regulator.partner.id}`);
    expect(request.approvalsRequired).toBe(2);

    const first = await t.operator('alice').decideAccessRequest({
      requestId: request.id,
      approve: true,
      reason: 'scope matches the certification',
    });
    expect(first.request?.state).toBe(RequestState.PENDING);
    expect(first.request?.credentialId).toBe('');

    const approvedAt = clock.advance(60_000);
    const second = await t.operator('bob').decideAccessRequest({
      requestId: request.id,
      approve: true,
      reason: 'agreed',
    });
    const approved = second.request;
    expect(approved?.state).toBe(RequestState.APPROVED);
    expect(approved?.decisions.map((d) => d.approver)).toEqual(['operator:alice', 'operator:bob']);
    expect(approved?.credentialId).toMatch(/^c-/);

    // The partner reads its credential back; it verifies under the snapshot's keys.
    const { request: mine } = await regulator.client.getAccessRequest({ id: request.id });
    const keyring = await t.trustedKeyring();
    const credential = await readCredential(mine?.credential ?? '', keyring, {
      now: clock.now(),
    });
    expect(credential.id).toBe(approved?.credentialId);
    expect(credential.subject).toEqual({ kind: 'partner', id: regulator.partner.id });
    expect(credential.audience).toEqual(['europe']);
    expect(credential.jurisdiction).toBe('EU');
    expect(credential.scope).toEqual({
      kinds: ['source'],
      products: ['router-os'],
      artifacts: [],
      actions: ['read', 'review'],
    });
    expect(credential.holderKey).toEqual(regulator.key.publicKey);
    // Valid from the approval, the last decision.
    expect(credential.notBefore).toEqual(approvedAt);
    expect(credential.issuedAt).toEqual(approvedAt);
    // Requested 48 h, under the 72 h cap: the requested end holds.
    expect(credential.expiresAt).toEqual(timestampDate(request.expiresAt ?? hoursFromNow(0)));
    // Operators see the request but not the token.
    const { request: seen } = await t.operator('alice').getAccessRequest({ id: request.id });
    expect(seen?.credentialId).toBe(approved?.credentialId);
    expect(seen?.credential).toBe('');
  });

  it('caps the credential at the policy lifetime counted from approval', async () => {
    const start = clock.in(2 * HOUR_MS);
    const request = await requestAs(
      regulator.client,
      // Exactly the 72 h the policy allows.
      euRequest(0, {
        notBefore: timestampFromDate(start),
        expiresAt: timestampFromDate(new Date(start.getTime() + 72 * HOUR_MS)),
      }),
    );
    clock.advance(60_000);
    await t
      .operator('alice')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'ok' });
    const approvedAt = clock.advance(60_000);
    await t
      .operator('carol')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'ok' });
    const { request: mine } = await regulator.client.getAccessRequest({ id: request.id });
    const keyring = await t.trustedKeyring();
    const credential = await readCredential(mine?.credential ?? '', keyring, {
      now: new Date(start.getTime() + 1000),
    });
    // A later requested start is kept; approved 2 minutes into the 72 h asked for, the
    // credential still ends 72 h after its start.
    expect(credential.notBefore).toEqual(start);
    expect(credential.expiresAt).toEqual(new Date(start.getTime() + 72 * HOUR_MS));
    // Issued at the last approval, before its window: a partner revocation from now covers it.
    expect(mine?.decisions.at(-1)?.at).toEqual(timestampFromDate(approvedAt));
    expect(credential.issuedAt).toEqual(approvedAt);
    expect(credential.issuedAt.getTime()).toBeLessThan(credential.notBefore.getTime());
  });

  it('keeps a request pending with too few approvers, and lists it by approver', async () => {
    const request = await requestAs(other.client);
    await t
      .operator('carol')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'fine' });
    const { request: still } = await other.client.getAccessRequest({ id: request.id });
    expect(still?.state).toBe(RequestState.PENDING);
    const { requests } = await t.operator('ops').listAccessRequests({ approver: 'carol' });
    expect(requests.map((r) => r.id)).toContain(request.id);
    expect(requests.every((r) => r.decisions.some((d) => d.approver === 'operator:carol'))).toBe(
      true,
    );
  });

  it('refuses self-approval with PERMISSION_DENIED when an operator asked on the partner’s behalf', async () => {
    const request = await requestAs(
      t.operator('root'),
      euRequest(24, { partnerId: other.partner.id }),
    );
    expect(request.requestedBy).toBe('operator:root');
    const self = t
      .operator('root')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'mine' });
    expect(await grpcCodeOf(self)).toBe('PERMISSION_DENIED');
  });

  it('refuses the same approver twice with ALREADY_EXISTS', async () => {
    const request = await requestAs(regulator.client);
    await t
      .operator('alice')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'ok' });
    const twice = t
      .operator('alice')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'again' });
    expect(await grpcCodeOf(twice)).toBe('ALREADY_EXISTS');
  });

  it('makes a denial final: deciding a decided request is FAILED_PRECONDITION', async () => {
    const request = await requestAs(regulator.client);
    const { request: denied } = await t.operator('alice').decideAccessRequest({
      requestId: request.id,
      approve: false,
      reason: 'justification too vague',
    });
    expect(denied?.state).toBe(RequestState.DENIED);
    expect(denied?.credentialId).toBe('');
    const late = t
      .operator('bob')
      .decideAccessRequest({ requestId: request.id, approve: true, reason: 'ok' });
    expect(await grpcCodeOf(late)).toBe('FAILED_PRECONDITION');
  });

  it('refuses decisions from partners and operators without the approver role', async () => {
    const request = await requestAs(regulator.client);
    const decide = (client: AccessClient) =>
      client.decideAccessRequest({ requestId: request.id, approve: true, reason: 'ok' });
    expect(await grpcCodeOf(decide(t.operator('ops')))).toBe('PERMISSION_DENIED');
    expect(await grpcCodeOf(decide(t.operator('sec')))).toBe('PERMISSION_DENIED');
    expect(await grpcCodeOf(decide(regulator.client))).toBe('PERMISSION_DENIED');
    expect(await grpcCodeOf(decide(other.client))).toBe('PERMISSION_DENIED');
  });

  it('refuses requests outside the policy with INVALID_ARGUMENT naming the limit', async () => {
    const over = await regulator.client.requestAccess(euRequest(73)).catch((e: Error) => e);
    expect(String(over)).toContain('maximum of 72 hours');
    expect(await grpcCodeOf(Promise.reject(over))).toBe('INVALID_ARGUMENT');
    const kind = regulator.client.requestAccess(
      euRequest(24, { scope: { artifactKinds: ['rules'], actions: [Action.READ] } }),
    );
    expect(await grpcCodeOf(kind)).toBe('INVALID_ARGUMENT');
    // Registered in EU only, other may not ask for US.
    const foreign = other.client.requestAccess(euRequest(24, { jurisdiction: 'US' }));
    expect(await grpcCodeOf(foreign)).toBe('INVALID_ARGUMENT');
    const unknown = regulator.client.requestAccess(euRequest(24, { jurisdiction: 'MARS' }));
    expect(await grpcCodeOf(unknown)).toBe('INVALID_ARGUMENT');
  });

  it('refuses malformed requests with INVALID_ARGUMENT', async () => {
    const cases = [
      euRequest(24, { scope: { artifactKinds: ['source'], actions: [] } }),
      euRequest(24, { scope: { artifactKinds: ['binary'], actions: [Action.READ] } }),
      euRequest(24, { justification: '   ' }),
      euRequest(24, { expiresAt: undefined }),
      euRequest(-1),
      euRequest(24, { notBefore: hoursFromNow(30) }),
    ];
    for (const body of cases) {
      expect(await grpcCodeOf(regulator.client.requestAccess(body))).toBe('INVALID_ARGUMENT');
    }
    const badId = t
      .operator('alice')
      .decideAccessRequest({ requestId: 'nope', approve: true, reason: 'x' });
    expect(await grpcCodeOf(badId)).toBe('INVALID_ARGUMENT');
    const noReason = t
      .operator('alice')
      .decideAccessRequest({ requestId: 'r-00000000000000000000', approve: true, reason: '' });
    expect(await grpcCodeOf(noReason)).toBe('INVALID_ARGUMENT');
    const unknown = t
      .operator('alice')
      .decideAccessRequest({ requestId: 'r-00000000000000000000', approve: true, reason: 'x' });
    expect(await grpcCodeOf(unknown)).toBe('NOT_FOUND');
  });

  it('lets a partner ask only for itself and see only its own requests', async () => {
    const forOther = regulator.client.requestAccess(euRequest(24, { partnerId: other.partner.id }));
    expect(await grpcCodeOf(forOther)).toBe('PERMISSION_DENIED');
    const own = await requestAs(regulator.client);
    const mine = await requestAs(other.client);
    expect(await grpcCodeOf(regulator.client.getAccessRequest({ id: mine.id }))).toBe(
      'PERMISSION_DENIED',
    );
    const listOther = regulator.client.listAccessRequests({ partnerId: other.partner.id });
    expect(await grpcCodeOf(listOther)).toBe('PERMISSION_DENIED');
    const { requests } = await regulator.client.listAccessRequests({});
    expect(requests.map((r) => r.id)).toContain(own.id);
    expect(requests.every((r) => r.partnerId === regulator.partner.id)).toBe(true);
    // An operator without the operator role cannot ask on a partner's behalf.
    const byApprover = t
      .operator('alice')
      .requestAccess(euRequest(24, { partnerId: other.partner.id }));
    expect(await grpcCodeOf(byApprover)).toBe('PERMISSION_DENIED');
    const unknownPartner = t
      .operator('ops')
      .requestAccess(euRequest(24, { partnerId: 'p-000000000000' }));
    expect(await grpcCodeOf(unknownPartner)).toBe('NOT_FOUND');
  });

  it('lists by partner and time range, a page at a time, newest first', async () => {
    const since = clock.advance(HOUR_MS);
    const made: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      clock.advance(1000);
      made.push((await requestAs(other.client)).id);
    }
    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await t.operator('ops').listAccessRequests({
        partnerId: other.partner.id,
        since: timestampFromDate(since),
        pageSize: 2,
        pageToken,
      });
      expect(page.requests.length).toBeLessThanOrEqual(2);
      seen.push(...page.requests.map((r) => r.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen).toEqual([...made].reverse());
    const before = await t.operator('ops').listAccessRequests({
      partnerId: other.partner.id,
      until: timestampFromDate(since),
    });
    expect(before.requests.filter((r) => made.includes(r.id))).toEqual([]);
    const reversed = t.operator('ops').listAccessRequests({
      since: hoursFromNow(1),
      until: hoursFromNow(0),
    });
    expect(await grpcCodeOf(reversed)).toBe('INVALID_ARGUMENT');
    const badToken = t.operator('ops').listAccessRequests({ pageToken: 'garbage!' });
    expect(await grpcCodeOf(badToken)).toBe('INVALID_ARGUMENT');
  });
});
