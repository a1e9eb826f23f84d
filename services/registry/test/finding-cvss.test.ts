import { readFileSync } from 'node:fs';
import { Code, ConnectError } from '@connectrpc/connect';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

/** FIRST's CVSS v3.0 specification examples (see libs/advisories/test/vectors/cvss/SOURCE.md). */
const FIRST_EXAMPLES = readFileSync(
  new URL('../../../libs/advisories/test/vectors/cvss/first-examples-v3.txt', import.meta.url),
  'utf8',
)
  .split('\n')
  .filter((line) => line.startsWith('CVSS:'))
  .map((line) => {
    const [vector = '', score = '', rating = ''] = line.split(' ');
    return { vector, score: Number(score), rating: rating.toLowerCase() };
  });

const CRITICAL_31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'; // 9.8
const MEDIUM_31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'; // 6.1
const HIGH_40 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L'; // 7.8

/** The rejection of `call`: its code and message (fails the test when it succeeds). */
async function refusal(call: Promise<unknown>): Promise<{ code: Code; message: string }> {
  const err = await call.then(
    () => expect.unreachable('the call succeeded'),
    (e: unknown) => ConnectError.from(e),
  );
  return { code: err.code, message: err.rawMessage };
}

describe.each(testBackends())('CVSS on findings on $name', (backend) => {
  let t: TestRegistry;
  let source = '';

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    const pushed = await t.client.pushArtifact(
      uploadOf(
        { kind: ArtifactKind.SOURCE, product: 'agent', version: '3.0' },
        randomContent(9000),
      ),
    );
    source = pushed.artifact?.id ?? '';
  });
  afterAll(() => t.cleanup());

  const createWith = (fields: {
    severity?: Severity;
    cvssVector?: string;
    severityReason?: string;
  }) => t.client.createFinding({ artifactIds: [source], title: 'Scored finding', ...fields });

  it('scores FIRST’s specification examples and takes the severity from the band', async () => {
    expect(FIRST_EXAMPLES.length).toBeGreaterThan(10);
    for (const example of FIRST_EXAMPLES) {
      const { finding } = await createWith({ cvssVector: example.vector });
      expect(finding?.cvssScore, example.vector).toBe(example.score);
      const band = example.rating === 'none' ? 'INFO' : example.rating.toUpperCase();
      expect(Severity[finding?.severity ?? 0], example.vector).toBe(band);
      expect(finding?.severityReason).toBe('');
    }
  });

  it('keeps the vector in the specification’s order and scores v4.0', async () => {
    const shuffled = 'CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U/E:X';
    const { finding } = await createWith({ cvssVector: shuffled });
    expect(finding).toMatchObject({
      cvssVector: CRITICAL_31,
      cvssScore: 9.8,
      severity: Severity.CRITICAL,
    });
    const v4 = (await createWith({ cvssVector: HIGH_40 })).finding;
    expect(v4).toMatchObject({ cvssScore: 7.8, severity: Severity.HIGH });
    const unscored = (await createWith({ severity: Severity.LOW })).finding;
    expect(unscored?.cvssScore).toBeUndefined();
    expect(unscored?.severity).toBe(Severity.LOW);
  });

  it('refuses malformed vectors with INVALID_ARGUMENT naming the problem, recording nothing', async () => {
    const before = (await t.client.listFindings({ pageSize: 1000 })).findings.length;
    const cases: [string, string][] = [
      ['CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'metric AV is given more than once'],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', 'base metric A missing'],
      ['CVSS:3.1/AV:N', 'base metrics AC, PR, UI, S, C, I, A missing'],
      ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1', 'unknown metric ZZ in CVSS 3.1'],
      ['CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 'AV:Q is not a value of AV'],
      ['CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P', 'CVSS version 2.0 is not supported'],
      ['AV:N/AC:L/Au:N/C:P/I:P/A:P', 'must start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/'],
      [`${CRITICAL_31}/`, '"" is not a metric:value pair'],
    ];
    for (const [vector, problem] of cases) {
      const got = await refusal(createWith({ severity: Severity.HIGH, cvssVector: vector }));
      expect(got.code, vector).toBe(Code.InvalidArgument);
      expect(got.message, vector).toContain(`cvss_vector: ${problem}`);
    }
    const { finding } = await createWith({ severity: Severity.LOW });
    const bad = await refusal(
      t.client.updateFinding({ id: finding?.id ?? '', cvssVector: 'CVSS:4.0/AV:N/AC:L' }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toContain(
      'cvss_vector: base metrics AT, PR, UI, VC, VI, VA, SC, SI, SA missing',
    );
    expect((await t.client.listFindings({ pageSize: 1000 })).findings.length).toBe(before + 1);
    expect((await t.client.getFinding({ id: finding?.id ?? '' })).history).toHaveLength(1);
  });

  it('asks for a reason when a severity differs from the band, and keeps it in history', async () => {
    const refused = await refusal(createWith({ severity: Severity.LOW, cvssVector: CRITICAL_31 }));
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(refused.message).toContain(
      'severity_reason: severity low differs from critical, the band of CVSS score 9.8',
    );
    const { finding } = await createWith({
      severity: Severity.LOW,
      cvssVector: CRITICAL_31,
      severityReason: 'only reachable from the maintenance network',
    });
    const id = finding?.id ?? '';
    expect(finding).toMatchObject({
      severity: Severity.LOW,
      cvssScore: 9.8,
      severityReason: 'only reachable from the maintenance network',
    });

    // Other changes leave the reason standing; a new severity off the band needs a new one.
    const assigned = await t.client.updateFinding({ id, assignee: 'net-team' });
    expect(assigned.finding?.severityReason).toBe('only reachable from the maintenance network');
    const noReason = await refusal(t.client.updateFinding({ id, severity: Severity.MEDIUM }));
    expect(noReason.code).toBe(Code.InvalidArgument);
    expect(noReason.message).toContain('severity_reason: severity medium differs from critical');
    const medium = await t.client.updateFinding({
      id,
      severity: Severity.MEDIUM,
      severityReason: 'exploit needs a configured proxy',
    });
    expect(medium.finding?.severityReason).toBe('exploit needs a configured proxy');

    // A new vector without a severity: the severity follows its band, the reason goes.
    const rescored = await t.client.updateFinding({ id, cvssVector: MEDIUM_31 });
    expect(rescored.finding).toMatchObject({
      severity: Severity.MEDIUM,
      cvssScore: 6.1,
      cvssVector: MEDIUM_31,
      severityReason: '',
    });
    // A reason where the severity is the band's is refused, as is one without a vector.
    const needless = await refusal(
      t.client.updateFinding({ id, severity: Severity.MEDIUM, severityReason: 'why not' }),
    );
    expect(needless.code).toBe(Code.InvalidArgument);
    expect(needless.message).toContain(
      'severity_reason: explains a severity that differs from the CVSS band, but medium is the band of score 6.1',
    );
    const cleared = await t.client.updateFinding({ id, cvssVector: '' });
    expect(cleared.finding?.cvssScore).toBeUndefined();
    expect(cleared.finding?.severity).toBe(Severity.MEDIUM);
    const unscored = await refusal(
      t.client.updateFinding({ id, severity: Severity.HIGH, severityReason: 'why not' }),
    );
    expect(unscored.message).toContain('but there is no cvss_vector');

    const { history } = await t.client.getFinding({ id });
    const reasons = history.map((h) =>
      h.change.case === 'created'
        ? h.change.value.severityReason
        : h.change.case === 'updated'
          ? h.change.value.severityReason
          : undefined,
    );
    expect(reasons).toEqual([
      'only reachable from the maintenance network',
      undefined,
      'exploit needs a configured proxy',
      '',
      undefined,
    ]);
    const scores = history.map((h) =>
      h.change.case === 'created' || h.change.case === 'updated' ? h.change.value.cvssScore : 0,
    );
    expect(scores).toEqual([9.8, undefined, undefined, 6.1, undefined]);
  });

  it('requires a severity when no valid vector gives one', async () => {
    const got = await refusal(createWith({}));
    expect(got.code).toBe(Code.InvalidArgument);
    expect(got.message).toContain('severity: must be info, low, medium, high or critical');
    const badVector = await refusal(createWith({ cvssVector: 'CVSS:3.1/AV:N' }));
    expect(badVector.message).toContain('severity: must be');
    expect(badVector.message).toContain('cvss_vector: base metrics');
  });
});
