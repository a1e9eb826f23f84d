import { ConnectError } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';
import { importOf, sarifLog } from './sarif-logs.js';

/** The import size limit of the registry under test: a 13 MiB file is over it. */
const MAX_IMPORT_BYTES = 12 * 1024 * 1024;

/** A partner of jurisdiction EU allowed to review only `products`, or only `artifacts`. */
async function partnerClient(t: TestRegistry, products: string[], artifacts?: string[]) {
  const caller = await t.trust.partner({
    partner: 'acme',
    jurisdiction: 'EU',
    audience: ['europe'],
    scope: { products, ...(artifacts && { artifacts }), actions: ['read', 'review'] },
  });
  return createGrpcClient(RegistryService, t.registry.url, {
    interceptors: [callAuthInterceptor(() => caller, 'europe')],
  });
}

/** The code and message a call fails with. */
async function refusal(call: Promise<unknown>) {
  const code = await grpcCodeOf(call);
  const message = await call.then(
    () => '',
    (err: unknown) => ConnectError.from(err).rawMessage,
  );
  return { code, message };
}

describe.each(testBackends())('SARIF import refusals on $name', (backend) => {
  let t: TestRegistry;
  let artifact = '';
  const valid = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ rule: 'rule-plain', hash: `h${i}`, line: i + 1 }));

  beforeAll(async () => {
    t = await startTestRegistry(backend, { maxImportBytes: MAX_IMPORT_BYTES });
    const meta = { kind: ArtifactKind.SOURCE, product: 'refusals', version: '1' };
    artifact =
      (await t.client.pushArtifact(uploadOf(meta, randomContent(2_000)))).artifact?.id ?? '';
  });
  afterAll(() => t.cleanup());

  /** Imports `file`, expecting a refusal, and checks that no finding was recorded. */
  async function refused(file: string | Uint8Array) {
    const answer = await refusal(t.client.importFindings(importOf(artifact, file)));
    const { findings } = await t.client.listFindings({ artifactId: artifact });
    expect(findings).toEqual([]);
    return answer;
  }

  /** A valid log but for a property nested `depth` arrays deep in its one result. */
  const nested = (depth: number) =>
    sarifLog(valid(1)).replace(
      '"ruleId"',
      `"properties":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}},"ruleId"`,
    );
  const cases: [string, () => string | Uint8Array, string | RegExp][] = [
    [
      'a wrong version',
      () => sarifLog(valid(2)).replace('"2.1.0"', '"2.0.0"'),
      'invalid SARIF at $.version: version "2.0.0" is not supported; vitrine reads SARIF "2.1.0" (#/properties/version/enum)',
    ],
    [
      'a log without runs',
      () => JSON.stringify({ version: '2.1.0' }),
      "invalid SARIF at $: must have required property 'runs' (#/required)",
    ],
    [
      'a result without message, after valid ones',
      () => {
        const parsed = JSON.parse(sarifLog(valid(3)));
        delete parsed.runs[0].results[2].message;
        return JSON.stringify(parsed);
      },
      "invalid SARIF at $.runs[0].results[2]: must have required property 'message' (#/definitions/result/required)",
    ],
    ['10 MB of garbage', () => randomContent(10 * 1000 * 1000), /invalid SARIF at \$/],
    [
      'deeply nested JSON',
      () => nested(10_000),
      'invalid SARIF at $.runs[0].results[0]: JSON nested deeper than allowed (nested deeper than 64) (limit)',
    ],
    ['an empty file', () => '', /invalid SARIF at \$/],
  ];
  it.each(cases)(
    'refuses %s with INVALID_ARGUMENT naming the path and rule',
    async (_, file, message) => {
      const { code, message: got } = await refused(file());
      expect(code).toBe('INVALID_ARGUMENT');
      if (typeof message === 'string') expect(got).toBe(message);
      else expect(got).toMatch(message);
    },
  );

  it('refuses a stream over the import limit with RESOURCE_EXHAUSTED', async () => {
    const { code, message } = await refused(
      `${sarifLog(valid(1)).slice(0, -2)}${' '.repeat(MAX_IMPORT_BYTES)}]}`,
    );
    expect({ code, message }).toEqual({
      code: 'RESOURCE_EXHAUSTED',
      message: `the SARIF file exceeds this center's import limit of ${MAX_IMPORT_BYTES} bytes`,
    });
  });

  it('refuses a missing artifact with NOT_FOUND, and malformed messages with INVALID_ARGUMENT', async () => {
    const missing = 'e'.repeat(64);
    expect(await refusal(t.client.importFindings(importOf(missing, sarifLog(valid(1)))))).toEqual({
      code: 'NOT_FOUND',
      message: `artifact ${missing} not found`,
    });
    async function* dataFirst() {
      yield { part: { case: 'data' as const, value: new Uint8Array(1) } };
    }
    expect(await refusal(t.client.importFindings(dataFirst()))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'invalid import: part: the first message of an import must be start',
    });
    const big = await refusal(
      t.client.importFindings(
        importOf(artifact, sarifLog(valid(1)).padEnd(2 * 1024 * 1024), 2 * 1024 * 1024),
      ),
    );
    expect(big).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'invalid import: data: at most 1048576 bytes per message',
    });
    const partner = await partnerClient(t, ['other-product']);
    expect(await refusal(partner.importFindings(importOf(artifact, sarifLog(valid(1)))))).toEqual({
      code: 'NOT_FOUND',
      message: `artifact ${artifact} not found`,
    });
    expect(await refusal(t.client.importFindings(importOf('abc', '')))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'invalid request: start.artifact_id: must be an artifact id (64 hex digits)',
    });
  });

  it("never matches, updates or marks a finding on lineage artifacts outside a partner's scope", async () => {
    const meta = { kind: ArtifactKind.SOURCE, product: 'scoped-lineage' };
    const push = async (version: string, supersedes = '') =>
      (await t.client.pushArtifact(uploadOf({ ...meta, version, supersedes }, randomContent(900))))
        .artifact?.id ?? '';
    const v1 = await push('1');
    const v2 = await push('2', v1);
    const seen = { rule: 'rule-plain', hash: 'scoped', line: 3 };
    expect(await t.client.importFindings(importOf(v1, sarifLog([seen])))).toMatchObject({
      created: 1,
    });
    const [before] = (await t.client.listFindings({ artifactId: v1 })).findings;

    // A partner that may review v2 only: its scan of v2 without the result marks nothing on
    // v1, and one with the result makes a finding of its own rather than touching v1's.
    const partner = await partnerClient(t, ['scoped-lineage'], [v2]);
    expect(await partner.importFindings(importOf(v2, sarifLog([])))).toMatchObject({
      candidateFixes: 0,
      events: 0,
    });
    expect(await partner.importFindings(importOf(v2, sarifLog([seen])))).toMatchObject({
      created: 1,
      updated: 0,
    });
    const [after] = (await t.client.listFindings({ artifactId: v1 })).findings;
    expect(after).toEqual(before);
    expect(after?.artifactIds).toEqual([v1]);
    expect(after?.candidateFixArtifactId).toBe('');
  });
});
