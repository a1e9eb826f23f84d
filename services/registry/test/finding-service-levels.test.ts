import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { resolveServiceLevels } from '@vitrine/channel';
import { callAuthInterceptor } from '@vitrine/credentials';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { type Finding, FindingStatus, Severity, SlaState } from '@vitrine/proto/finding';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { TestClock, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

const DAY = 86_400_000;

/**
 * Federation-wide high 30 days, critical 7; the EU sets 10 for high. Artifacts held
 * everywhere fall under the EU too, so the strictest (10) applies to them.
 */
const POLICY = resolveServiceLevels({
  daysToFix: { high: 30 },
  jurisdictions: { EU: { high: 10 } },
});

/** The rejection of `call`: its code and message (fails the test when it succeeds). */
async function refusal(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const err = await call.then(
    () => expect.unreachable('the call succeeded'),
    (e: unknown) => ConnectError.from(e),
  );
  return { code: err.code, message: err.rawMessage };
}

const at = (t: { seconds: bigint; nanos: number } | undefined) =>
  t === undefined ? undefined : timestampDate(t as Parameters<typeof timestampDate>[0]);

describe.each(testBackends())('service levels and embargoes of findings on $name', (backend) => {
  const clock = new TestClock(new Date());
  let t: TestRegistry;
  let everywhere = '';
  let usOnly = '';
  let update = '';

  beforeAll(async () => {
    t = await startTestRegistry(backend, {}, { now: clock.nowMs, serviceLevels: POLICY });
    const push = async (kind: ArtifactKind, residency: string[]) =>
      (
        await t.client.pushArtifact(
          uploadOf({ kind, product: 'agent', version: '1', residency }, randomContent(3000)),
        )
      ).artifact?.id ?? '';
    everywhere = await push(ArtifactKind.SOURCE, []);
    usOnly = await push(ArtifactKind.SOURCE, ['US']);
    update = await push(ArtifactKind.UPDATE, []);
  });
  afterAll(() => t.cleanup());

  const create = async (artifact: string, severity: Severity, discloseAfter = '') =>
    (
      await t.client.createFinding({
        artifactIds: [artifact],
        title: 'Late',
        severity,
        discloseAfter,
      })
    ).finding as Finding;
  const get = async (id: string) => (await t.client.getFinding({ id })).finding as Finding;
  const move = (id: string, status: FindingStatus, more: { fixArtifactId?: string } = {}) =>
    t.client.updateFinding({ id, status, ...more });
  const overdueIds = async () =>
    (await t.client.listFindings({ overdue: true, pageSize: 1000 })).findings.map((f) => f.id);

  it('starts the due date at triage, with the strictest jurisdiction’s days, and moves it with severity', async () => {
    const f = await create(everywhere, Severity.HIGH);
    expect(f).toMatchObject({ slaState: SlaState.NONE, daysToFix: 10 });
    expect(f.dueAt).toBeUndefined();
    const us = await create(usOnly, Severity.HIGH);
    expect(us.daysToFix).toBe(30);

    clock.advance(DAY);
    const triagedAt = clock.now();
    await move(f.id, FindingStatus.TRIAGED);
    await move(us.id, FindingStatus.TRIAGED);
    const triaged = await get(f.id);
    expect(at(triaged.triagedAt)).toEqual(triagedAt);
    expect(at(triaged.dueAt)).toEqual(new Date(triagedAt.getTime() + 10 * DAY));
    expect(triaged.slaState).toBe(SlaState.ON_TRACK);
    expect(at((await get(us.id)).dueAt)).toEqual(new Date(triagedAt.getTime() + 30 * DAY));

    // Progress keeps the first triage's clock.
    clock.advance(DAY);
    await move(f.id, FindingStatus.IN_PROGRESS);
    expect(at((await get(f.id)).dueAt)).toEqual(new Date(triagedAt.getTime() + 10 * DAY));

    clock.advance(7 * DAY); // 8 days after triage: 2 of 10 left
    expect((await get(f.id)).slaState).toBe(SlaState.DUE_SOON);
    expect(await overdueIds()).toEqual([]);

    const critical = (await t.client.updateFinding({ id: f.id, severity: Severity.CRITICAL }))
      .finding as Finding;
    expect(at(critical.dueAt)).toEqual(new Date(triagedAt.getTime() + 7 * DAY));
    expect(critical).toMatchObject({ slaState: SlaState.OVERDUE, daysToFix: 7 });
    expect(await overdueIds()).toEqual([f.id]);
    const listed = await t.client.listFindings({ overdue: true, severity: Severity.HIGH });
    expect(listed.findings).toEqual([]);

    await move(f.id, FindingStatus.FIXED, { fixArtifactId: update });
    const fixed = await get(f.id);
    expect(fixed.slaState).toBe(SlaState.BREACHED);
    expect(fixed.dueAt).toBeUndefined();
    expect(await overdueIds()).toEqual([]);

    // A US finding fixed in time met its 30 days; a rejected one has no service level.
    await move(us.id, FindingStatus.IN_PROGRESS);
    await move(us.id, FindingStatus.FIXED, { fixArtifactId: update });
    expect((await get(us.id)).slaState).toBe(SlaState.MET);
    const rejected = await create(usOnly, Severity.CRITICAL);
    await move(rejected.id, FindingStatus.TRIAGED);
    await move(rejected.id, FindingStatus.REJECTED);
    expect(await get(rejected.id)).toMatchObject({ slaState: SlaState.NONE });
  });

  it('gives informational findings no due date under the default policy', async () => {
    const f = await create(everywhere, Severity.INFO);
    await move(f.id, FindingStatus.TRIAGED);
    clock.advance(400 * DAY);
    expect(await get(f.id)).toMatchObject({ slaState: SlaState.NONE, daysToFix: 0 });
    expect(await overdueIds()).not.toContain(f.id);
  });

  it('refuses disclosure before the embargo with FAILED_PRECONDITION naming the date, then allows it', async () => {
    const lifts = clock.in(5 * DAY);
    const f = await create(everywhere, Severity.LOW, lifts.toISOString());
    expect(at(f.discloseAfter)).toEqual(lifts);
    await move(f.id, FindingStatus.TRIAGED);
    await move(f.id, FindingStatus.IN_PROGRESS);
    await move(f.id, FindingStatus.FIXED, { fixArtifactId: update });
    await move(f.id, FindingStatus.VERIFIED);
    const early = await refusal(move(f.id, FindingStatus.DISCLOSED));
    expect(early.code).toBe(Code.FailedPrecondition);
    expect(early.message).toBe(
      `finding ${f.id} is under embargo until ${lifts.toISOString()}: it cannot be disclosed before then (change disclose_after to disclose it earlier)`,
    );
    expect((await get(f.id)).status).toBe(FindingStatus.VERIFIED);

    // Moving the embargo is recorded in history; once it lifts, disclosure goes through.
    const later = '2999-01-01';
    await t.client.updateFinding({ id: f.id, discloseAfter: later });
    const moved = await refusal(move(f.id, FindingStatus.DISCLOSED));
    expect(moved.message).toContain('until 2999-01-01T00:00:00.000Z');
    await t.client.updateFinding({ id: f.id, discloseAfter: lifts.toISOString() });
    clock.advance(5 * DAY);
    const disclosed = (await move(f.id, FindingStatus.DISCLOSED)).finding;
    expect(disclosed?.status).toBe(FindingStatus.DISCLOSED);
    const { history } = await t.client.getFinding({ id: f.id });
    const embargoes = history.flatMap((h) =>
      h.change.case === 'updated' && h.change.value.discloseAfter !== undefined
        ? [h.change.value.discloseAfter]
        : [],
    );
    expect(embargoes).toEqual(['2999-01-01T00:00:00.000Z', lifts.toISOString()]);
  });

  it('lifts an embargo with an empty date', async () => {
    const f = await create(everywhere, Severity.LOW, '2999-06-30');
    const lifted = (await t.client.updateFinding({ id: f.id, discloseAfter: '' })).finding;
    expect(lifted?.discloseAfter).toBeUndefined();
  });

  it('refuses a malformed disclosure date with INVALID_ARGUMENT, recording nothing', async () => {
    const before = (await t.client.listFindings({ pageSize: 1000 })).findings.length;
    for (const bad of [
      'tomorrow',
      '2026-02-30',
      '2026-13-01',
      '2026-06-01T25:00:00Z',
      '1/2/2027',
    ]) {
      const got = await refusal(
        t.client.createFinding({
          artifactIds: [everywhere],
          title: 'Bad date',
          severity: Severity.LOW,
          discloseAfter: bad,
        }),
      );
      expect(got.code, bad).toBe(Code.InvalidArgument);
      expect(got.message, bad).toContain(
        `disclose_after: must be a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 date-time, not "${bad}"`,
      );
    }
    const f = await create(everywhere, Severity.LOW);
    const got = await refusal(
      t.client.updateFinding({ id: f.id, discloseAfter: '2026-06-01T10:00' }),
    );
    expect(got.code).toBe(Code.InvalidArgument);
    expect(got.message).toContain('disclose_after: must be');
    expect((await t.client.listFindings({ pageSize: 1000 })).findings.length).toBe(before + 1);
  });

  it('shows a partner in scope the embargo and the due date', async () => {
    const f = await create(everywhere, Severity.CRITICAL, '2999-03-01T12:00:00+02:00');
    await move(f.id, FindingStatus.TRIAGED);
    const caller = await t.trust.partner({
      partner: 'acme',
      jurisdiction: 'EU',
      audience: ['europe'],
    });
    const partner = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe')],
    });
    const seen = (await partner.getFinding({ id: f.id })).finding;
    expect(at(seen?.discloseAfter)).toEqual(new Date('2999-03-01T10:00:00.000Z'));
    expect(seen?.slaState).toBe(SlaState.ON_TRACK);
    expect(at(seen?.dueAt)).toEqual(new Date(clock.nowMs() + 7 * DAY));
  });
});
