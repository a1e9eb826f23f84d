import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { osvValidator, sarifValidator } from '@vitrine/advisories/test-validators';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { PushArtifactRequestSchema } from '@vitrine/proto/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCenter, type TestCenter } from './test-center.js';

describe('finding export and duplicates against a real registry', () => {
  let center: TestCenter;
  let original = '';
  let duplicate = '';
  const at = { center: ['--center', 'europe'] };

  beforeAll(async () => {
    center = await startTestCenter('vitrine-cli-export-');
    async function* requests() {
      const meta = { kind: ArtifactKind.SOURCE, product: 'router-os', version: '4.2' };
      yield create(PushArtifactRequestSchema, { part: { case: 'metadata', value: meta } });
      yield create(PushArtifactRequestSchema, { part: { case: 'data', value: randomBytes(5000) } });
    }
    const artifactId = (await center.client.pushArtifact(requests())).artifact?.id ?? '';
    const file = async (title: string) =>
      (
        await center.client.createFinding({
          artifactIds: [artifactId],
          title,
          severity: Severity.HIGH,
        })
      ).finding?.id ?? '';
    original = await file('Hard-coded credential');
    duplicate = await file('Fixed password in updater');
  });
  afterAll(() => center?.stop());

  it('links a duplicate and shows the link both ways', async () => {
    const linked = await center.cli(
      'finding',
      'update',
      duplicate,
      '--duplicate-of',
      original,
      ...at.center,
      '--json',
    );
    expect(linked.code).toBe(0);
    expect(linked.json()).toMatchObject({
      finding: {
        status: 'duplicate',
        duplicateOf: original,
        effectiveStatus: 'new',
        duplicates: [],
      },
    });
    const shownDuplicate = await center.cli('finding', 'show', duplicate, ...at.center);
    expect(shownDuplicate.stdout).toMatch(/status:\s+duplicate \(effective: new\)/);
    expect(shownDuplicate.stdout).toMatch(new RegExp(`duplicate of:\\s+${original}\\n`));
    expect(shownDuplicate.stdout).toContain(`updated status=duplicate, duplicateOf=${original}`);
    const shownOriginal = await center.cli('finding', 'show', original, ...at.center);
    expect(shownOriginal.stdout).toMatch(new RegExp(`duplicates:\\s+${duplicate}\\n`));
  });

  it('exports to a file written whole, and refuses to overwrite it without --force', async () => {
    const args = ['finding', 'export', '--format', 'osv', '--finding', original, '-o', 'osv.json'];
    const run = await center.cli(...args, ...at.center, '--json');
    expect(run.code).toBe(0);
    const path = join(center.dir.path, 'osv.json');
    const text = await readFile(path, 'utf8');
    expect(run.json()).toEqual({ format: 'osv', path, bytes: Buffer.byteLength(text) });
    const record = JSON.parse(text);
    const valid = osvValidator();
    expect([valid(record), valid.errors]).toEqual([true, null]);
    expect(record.id).toBe(`x_VITRINE-${original}`);
    const again = await center.cli(...args, ...at.center);
    expect([again.code, again.stderr]).toEqual([
      2,
      `vitrine: ${path} already exists; pass --force to replace it (USAGE)\n`,
    ]);
    expect((await center.cli(...args, ...at.center, '--force')).code).toBe(0);
  });

  it('streams SARIF to stdout', async () => {
    const run = await center.cli('finding', 'export', '--format', 'sarif', ...at.center);
    expect(run.code).toBe(0);
    const log = JSON.parse(run.stdout);
    const valid = sarifValidator();
    expect([valid(log), valid.errors]).toEqual([true, null]);
    expect(log.runs[0].results).toHaveLength(2);
  });

  it('leaves no file when the center refuses the export', async () => {
    const before = (await readdir(center.dir.path)).sort();
    const run = await center.cli(
      'finding',
      'export',
      '--format',
      'csaf',
      '--finding',
      original,
      '-o',
      'csaf.json',
      ...at.center,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `vitrine: europe: finding ${original} is new, not disclosed: a security advisory publishes disclosed findings only (export csaf-vex for the status of undisclosed ones) (FAILED_PRECONDITION)\n`,
    );
    expect((await readdir(center.dir.path)).sort()).toEqual(before);
  });

  it.each([
    [
      ['--format', 'cyclonedx'],
      /argument 'cyclonedx' is invalid\. Allowed choices are osv, csaf, csaf-vex, sarif/,
    ],
    [
      ['--format', 'osv', '--finding', 'europe-1', '--product', 'router-os'],
      /give at most one of --finding, --artifact and --product/,
    ],
    [['--format', 'osv', '--json'], /--json needs -o FILE/],
    [[], /required option '--format <format>' not specified/],
  ])('exits 2 for a usage error: %j', async (args, message) => {
    const run = await center.cli('finding', 'export', ...args, ...at.center);
    expect(run.code).toBe(2);
    // With --json the error is the JSON document on stdout.
    expect(run.stderr + run.stdout).toMatch(message);
  });

  it('exits 2 for --duplicate-of with another status', async () => {
    const run = await center.cli(
      'finding',
      'update',
      original,
      '--duplicate-of',
      duplicate,
      '--status',
      'rejected',
      ...at.center,
    );
    expect([run.code, run.stderr]).toEqual([
      2,
      'vitrine: --duplicate-of makes the status duplicate: leave out --status (USAGE)\n',
    ]);
  });
});
