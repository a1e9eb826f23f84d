import type { Client } from '@connectrpc/connect';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import type { RegistryService } from '@vitrine/proto/registry';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';
import { importOf, sarifLog } from './sarif-logs.js';

type Registry = Client<typeof RegistryService>;

/** Every finding on an artifact, by rule and first location line. */
async function findingsOn(client: Registry, artifactId: string) {
  const { findings } = await client.listFindings({ artifactId, pageSize: 1000 });
  return findings;
}

describe.each(testBackends())('SARIF import into findings on $name', (backend) => {
  let t: TestRegistry;
  const versions: string[] = [];

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    // Three versions of one product, each superseding the last: one lineage.
    for (const version of ['1.0', '1.1', '1.2']) {
      const supersedes = versions.at(-1) ?? '';
      const meta = { kind: ArtifactKind.SOURCE, product: 'scanner-demo', version, supersedes };
      const { artifact } = await t.client.pushArtifact(uploadOf(meta, randomContent(3_000)));
      versions.push(artifact?.id ?? '');
    }
  });
  afterAll(() => t.cleanup());

  it('creates a finding per result with rule, tool, locations and mapped severity; again: nothing', async () => {
    const [v1 = ''] = versions;
    const file = sarifLog([
      { rule: 'rule-critical', hash: 'aaa', line: 10, message: 'Injection\nmore detail' },
      { rule: 'rule-plain', hash: 'bbb', line: 20, level: 'error' },
      { rule: 'rule-plain', hash: 'ccc', line: 30 },
    ]);
    const first = await t.client.importFindings(importOf(v1, file, 100));
    expect(first).toMatchObject({ results: 3, created: 3, updated: 0, events: 3 });
    const found = await findingsOn(t.client, v1);
    const byLine = (line: number) => found.find((f) => f.locations[0]?.startLine === line);
    expect(byLine(10)).toMatchObject({
      title: 'Injection',
      description: 'Injection\nmore detail',
      ruleId: 'rule-critical',
      tool: 'TestScanner',
      severity: Severity.CRITICAL,
      locations: [{ path: 'src/main.c', startLine: 10, endLine: 11 }],
      artifactIds: [v1],
      candidateFixArtifactId: '',
    });
    expect(byLine(10)?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(byLine(20)?.severity).toBe(Severity.HIGH);
    expect(byLine(30)?.severity).toBe(Severity.MEDIUM);

    const again = await t.client.importFindings(importOf(v1, file));
    expect(again).toMatchObject({ results: 3, created: 0, updated: 0, unchanged: 3, events: 0 });
    expect(await findingsOn(t.client, v1)).toEqual(found);
  });

  it('follows the lineage: adds the superseding artifact, marks what a later scan no longer reports', async () => {
    const [v1 = '', v2 = '', v3 = ''] = versions;
    // v1 was scanned above (aaa, bbb, ccc). v2 still has aaa (moved) and bbb; ccc is gone.
    const scan2 = sarifLog([
      { rule: 'rule-critical', hash: 'aaa', line: 12, message: 'Injection\nmore detail' },
      { rule: 'rule-plain', hash: 'bbb', line: 20, level: 'error' },
    ]);
    const second = await t.client.importFindings(importOf(v2, scan2));
    expect(second).toMatchObject({ results: 2, created: 0, updated: 2, candidateFixes: 1 });
    expect(second.events).toBe(3);
    const onV2 = await findingsOn(t.client, v2);
    expect(onV2.map((f) => f.artifactIds)).toEqual([[v1, v2].sort(), [v1, v2].sort()]);
    expect(onV2.find((f) => f.ruleId === 'rule-critical')?.locations[0]?.startLine).toBe(12);
    const { findings: fixed } = await t.client.listFindings({ candidateFix: true });
    expect(fixed.map((f) => [f.locations[0]?.startLine, f.candidateFixArtifactId])).toEqual([
      [30, v2],
    ]);
    expect((await t.client.importFindings(importOf(v2, scan2))).events).toBe(0);

    // v3: ccc is back (no longer a candidate fix); aaa is reported absent by its baseline.
    const scan3 = sarifLog([
      { rule: 'rule-critical', hash: 'aaa', line: 12, baselineState: 'absent' },
      { rule: 'rule-plain', hash: 'bbb', line: 20, level: 'error', baselineState: 'unchanged' },
      { rule: 'rule-plain', hash: 'ccc', line: 30, baselineState: 'new' },
    ]);
    const third = await t.client.importFindings(importOf(v3, scan3));
    expect(third).toMatchObject({ created: 0, updated: 2, skipped: 1, candidateFixes: 1 });
    const after = await t.client.listFindings({ artifactId: v1 });
    const state = after.findings
      .map((f) => [f.locations[0]?.startLine, f.artifactIds.includes(v3), f.candidateFixArtifactId])
      .sort();
    expect(state).toEqual([
      [12, false, v3],
      [20, true, ''],
      [30, true, ''],
    ]);
    // A scan of an earlier artifact marks nothing as fixed.
    const late = await t.client.importFindings(importOf(v1, sarifLog([])));
    expect(late).toMatchObject({ candidateFixes: 0, events: 0 });
  });

  it('keys a result without fingerprints by rule, location and message', async () => {
    const [, , v3 = ''] = versions;
    const plain = { rule: 'rule-plain', path: 'lib/fallback.c', line: 7, message: 'Unchecked' };
    const file = sarifLog([plain, plain, { ...plain, message: 'Unchecked length' }], 'Fallback');
    const res = await t.client.importFindings(importOf(v3, file));
    expect(res).toMatchObject({ results: 3, created: 2, unchanged: 1 });
    const again = await t.client.importFindings(importOf(v3, file));
    expect(again).toMatchObject({ created: 0, events: 0 });
  });
});
