import { Code, ConnectError } from '@connectrpc/connect';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

const codeOf = grpcCodeOf;

describe.each(testBackends())('registry findings on $name', (backend) => {
  let t: TestRegistry;
  let source = '';
  let update = '';

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    const push = (kind: ArtifactKind, version: string) =>
      t.client.pushArtifact(uploadOf({ kind, product: 'agent', version }, randomContent(70_000)));
    source = (await push(ArtifactKind.SOURCE, '2.0')).artifact?.id ?? '';
    update = (await push(ArtifactKind.UPDATE, '2.0.1')).artifact?.id ?? '';
  });
  afterAll(() => t.cleanup());

  it('takes a finding through its whole lifecycle, keeping every step in history', async () => {
    const { finding } = await t.client.createFinding({
      artifactIds: [source],
      title: 'Hard-coded credential in updater',
      description: 'The updater embeds a token.',
      severity: Severity.CRITICAL,
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    });
    const id = finding?.id ?? '';
    expect(id).toMatch(/^europe-\d+$/);
    expect(finding).toMatchObject({
      status: FindingStatus.NEW,
      artifactIds: [source],
      origin: 'europe',
    });

    const steps: [FindingStatus, Record<string, unknown>][] = [
      [FindingStatus.TRIAGED, { assignee: 'updater-team' }],
      [FindingStatus.IN_PROGRESS, {}],
      [FindingStatus.FIXED, { fixArtifactId: update }],
      [FindingStatus.VERIFIED, {}],
      [FindingStatus.DISCLOSED, {}],
    ];
    for (const [status, extra] of steps) {
      const res = await t.client.updateFinding({ id, status, ...extra });
      expect(res.finding?.status).toBe(status);
    }
    await t.client.addComment({ findingId: id, text: 'Confirmed on 2.0.1.' });

    const got = await t.client.getFinding({ id });
    expect(got.finding).toMatchObject({
      status: FindingStatus.DISCLOSED,
      assignee: 'updater-team',
      fixArtifactId: update,
      commentCount: 1,
    });
    expect(got.comments.map((c) => c.text)).toEqual(['Confirmed on 2.0.1.']);
    expect(got.history.map((h) => h.change.case)).toEqual([
      'created',
      'updated',
      'updated',
      'updated',
      'updated',
      'updated',
      'comment',
    ]);
    const seqs = got.history.map((h) => h.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
    expect(got.history.every((h) => h.actor === 'operator:test' && h.origin === 'europe')).toBe(
      true,
    );
  });

  it('refuses transitions the lifecycle does not allow with FAILED_PRECONDITION', async () => {
    const { finding } = await t.client.createFinding({
      artifactIds: [source],
      title: 'Weak TLS defaults',
      severity: Severity.MEDIUM,
    });
    const id = finding?.id ?? '';
    expect(await codeOf(t.client.updateFinding({ id, status: FindingStatus.FIXED }))).toBe(
      'FAILED_PRECONDITION',
    );
    expect(await codeOf(t.client.updateFinding({ id, status: FindingStatus.DISCLOSED }))).toBe(
      'FAILED_PRECONDITION',
    );
    await t.client.updateFinding({ id, status: FindingStatus.TRIAGED });
    await t.client.updateFinding({ id, status: FindingStatus.IN_PROGRESS });
    // fixed must name an update artifact
    expect(await codeOf(t.client.updateFinding({ id, status: FindingStatus.FIXED }))).toBe(
      'FAILED_PRECONDITION',
    );
    expect(
      await codeOf(
        t.client.updateFinding({ id, status: FindingStatus.FIXED, fixArtifactId: source }),
      ),
    ).toBe('FAILED_PRECONDITION');
    expect(
      await codeOf(
        t.client.updateFinding({ id, status: FindingStatus.FIXED, fixArtifactId: 'e'.repeat(64) }),
      ),
    ).toBe('NOT_FOUND');
    const unchanged = await t.client.getFinding({ id });
    expect(unchanged.finding?.status).toBe(FindingStatus.IN_PROGRESS);
    await t.client.updateFinding({ id, status: FindingStatus.REJECTED });
    expect(await codeOf(t.client.updateFinding({ id, status: FindingStatus.TRIAGED }))).toBe(
      'FAILED_PRECONDITION',
    );
  });

  it('records nothing for an update that changes nothing', async () => {
    const { finding } = await t.client.createFinding({
      artifactIds: [source],
      title: 'Same',
      severity: Severity.LOW,
    });
    const id = finding?.id ?? '';
    await t.client.updateFinding({ id, title: 'Same', severity: Severity.LOW });
    const got = await t.client.getFinding({ id });
    expect(got.history).toHaveLength(1);
  });

  it('lists with filters', async () => {
    const critical = await t.client.listFindings({ severity: Severity.CRITICAL });
    expect(critical.findings.map((f) => f.title)).toEqual(['Hard-coded credential in updater']);
    const rejected = await t.client.listFindings({ status: FindingStatus.REJECTED });
    expect(rejected.findings.map((f) => f.title)).toEqual(['Weak TLS defaults']);
    const onSource = await t.client.listFindings({ artifactId: source });
    expect(onSource.findings).toHaveLength(3);
    const onUpdate = await t.client.listFindings({ artifactId: update });
    expect(onUpdate.findings).toHaveLength(0);
    const paged = await t.client.listFindings({ pageSize: 2 });
    const rest = await t.client.listFindings({ pageSize: 2, pageToken: paged.nextPageToken });
    expect([...paged.findings, ...rest.findings].map((f) => f.id).sort()).toEqual(
      onSource.findings.map((f) => f.id).sort(),
    );
  });

  it('refuses bad input with INVALID_ARGUMENT naming each field, unknown ids with NOT_FOUND', async () => {
    const err = await t.client
      .createFinding({
        artifactIds: ['nope'],
        title: ' ',
        severity: Severity.UNSPECIFIED,
        cvssVector: 'CVSS:9/AV:X',
      })
      .catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    for (const field of ['artifact_ids[0]', 'title', 'severity', 'cvss_vector']) {
      expect((err as ConnectError).rawMessage).toContain(field);
    }
    expect(
      await codeOf(t.client.createFinding({ artifactIds: [], title: 'x', severity: Severity.LOW })),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(
        t.client.createFinding({
          artifactIds: ['d'.repeat(64)],
          title: 'x',
          severity: Severity.LOW,
        }),
      ),
    ).toBe('NOT_FOUND');
    expect(await codeOf(t.client.getFinding({ id: 'europe-99999' }))).toBe('NOT_FOUND');
    expect(await codeOf(t.client.getFinding({ id: 'DROP TABLE' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(t.client.updateFinding({ id: 'europe-99999', title: 'x' }))).toBe(
      'NOT_FOUND',
    );
    expect(
      await codeOf(t.client.updateFinding({ id: 'europe-1', status: 42 as FindingStatus })),
    ).toBe('INVALID_ARGUMENT');
    expect(await codeOf(t.client.addComment({ findingId: 'europe-99999', text: 'hi' }))).toBe(
      'NOT_FOUND',
    );
    expect(await codeOf(t.client.addComment({ findingId: 'europe-1', text: '' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(t.client.listFindings({ artifactId: 'zz' }))).toBe('INVALID_ARGUMENT');
  });

  it('gives a finding the residency its artifacts share, and refuses artifacts that share none', async () => {
    const push = (version: string, residency: string[]) =>
      t.client.pushArtifact(
        uploadOf(
          { kind: ArtifactKind.SOURCE, product: 'agent', version, residency },
          randomContent(1000),
        ),
      );
    const euUs = (await push('eu-us', ['EU', 'US'])).artifact?.id ?? '';
    const eu = (await push('eu', ['EU'])).artifact?.id ?? '';
    const us = (await push('us', ['US'])).artifact?.id ?? '';
    const onEu = await t.client.createFinding({
      artifactIds: [source, euUs, eu],
      title: 'r',
      severity: Severity.LOW,
    });
    expect(onEu.finding?.residency).toEqual(['EU']);
    const anywhere = await t.client.createFinding({
      artifactIds: [source],
      title: 'r',
      severity: Severity.LOW,
    });
    expect(anywhere.finding?.residency).toEqual([]);
    expect(
      await codeOf(
        t.client.createFinding({ artifactIds: [eu, us], title: 'r', severity: Severity.LOW }),
      ),
    ).toBe('FAILED_PRECONDITION');
  });

  it('keeps findings across a restart', async () => {
    const before = await t.client.listFindings({});
    await t.restart();
    const after = await t.client.listFindings({});
    expect(after.findings.map((f) => f.id)).toEqual(before.findings.map((f) => f.id));
  });
});
