import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCenter, type TestCenter } from './test-center.js';

/**
 * A real scanner's output: github/codeql-action's test log (three results from two runs),
 * copied into libs/advisories/test/vectors with its origin in SOURCE.md there.
 */
const CODEQL_SAMPLE = new URL(
  '../../libs/advisories/test/vectors/sarif/samples/codeql-action_valid-sarif.sarif',
  import.meta.url,
);

describe('vitrine finding import', () => {
  let center: TestCenter;
  let artifactId = '';

  beforeAll(async () => {
    center = await startTestCenter('vitrine-cli-import-');
    const metadata = { kind: ArtifactKind.SOURCE, product: 'cli-import', version: '1' };
    const pushed = await center.client.pushArtifact(
      (async function* () {
        yield { part: { case: 'metadata' as const, value: metadata } };
        yield { part: { case: 'data' as const, value: new TextEncoder().encode('source') } };
      })(),
    );
    artifactId = pushed.artifact?.id ?? '';
    await copyFile(CODEQL_SAMPLE, join(center.dir.path, 'codeql.sarif'));
  });
  afterAll(() => center.stop());

  it('imports a real scanner log by artifact prefix, then again without a change', async () => {
    const prefix = artifactId.slice(0, 8);
    const first = await center.cli(
      'finding',
      'import',
      'codeql.sarif',
      '--artifact',
      prefix,
      '--center',
      'europe',
      '--json',
    );
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ results: 3, created: 3, events: 3 });
    const again = await center.cli(
      'finding',
      'import',
      'codeql.sarif',
      '--artifact',
      prefix,
      '--center',
      'europe',
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      'imported 3 results at europe: 0 new findings, 0 updated, 3 unchanged',
    );

    const listed = await center.cli(
      'finding',
      'ls',
      '--artifact',
      prefix,
      '--center',
      'europe',
      '--json',
    );
    const { findings } = listed.json() as {
      findings: { id: string; tool: string; ruleId: string }[];
    };
    expect(findings.map((f) => f.tool).sort()).toEqual([
      'CodeQL command-line toolchain',
      'CodeQL command-line toolchain',
      'LGTM.com',
    ]);
    const shown = await center.cli('finding', 'show', findings[0]?.id ?? '');
    expect(shown.stdout).toMatch(/^tool: +\S/m);
    expect(shown.stdout).toMatch(/^locations: +\S/m);
    const none = await center.cli('finding', 'ls', '--candidate-fix', '--json');
    expect((none.json() as { findings: unknown[] }).findings).toEqual([]);
  });

  it("refuses a missing file as a usage error and an invalid log with the center's reason", async () => {
    const missing = await center.cli(
      'finding',
      'import',
      'nope.sarif',
      '--artifact',
      artifactId,
      '--center',
      'europe',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.sarif: no such file');
    await writeFile(join(center.dir.path, 'old.sarif'), '{"version":"2.0.0","runs":[]}');
    const old = await center.cli(
      'finding',
      'import',
      'old.sarif',
      '--artifact',
      artifactId,
      '--center',
      'europe',
    );
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('invalid SARIF at $.version');
  });
});
