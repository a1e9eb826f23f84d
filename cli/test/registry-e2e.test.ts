import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunningRegistry, seedTrustSnapshot, startRegistry } from '@vitrine/registry';
import { createLogger } from '@vitrine/rpc';
import {
  startTestTrust,
  type TempDir,
  type TestTrust,
  tempDir,
  testBackends,
} from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfile, saveCredential } from '../src/profile.js';
import { federationFile, runCli } from './run-cli.js';

/** The embedded backend: these tests are about the CLI, the registry has its own suites. */
const pglite = testBackends()[0];

interface PushJson {
  artifact: {
    id: string;
    size: number;
    contentDigest: string;
    kind: string;
    residency: string[];
    chunkCount: number;
  };
  created: boolean;
  chunksStored: number;
  chunksReused: number;
}

describe('vitrine against a real registry (europe)', () => {
  let dir: TempDir;
  let registry: RunningRegistry;
  let trust: TestTrust;
  let cleanupDb: () => Promise<void>;
  // Five full 1 MiB messages and a ragged tail: several messages and many chunks.
  const content = randomBytes(5 * 1024 * 1024 + 12_345);
  const digest = createHash('sha256').update(content).digest('hex');
  let artifactId = '';
  let findingId = '';
  const cli = (...args: string[]) => runCli(args, { cwd: dir.path });

  beforeAll(async () => {
    if (pglite === undefined) throw new Error('no test backend');
    dir = await tempDir('vitrine-cli-e2e-');
    const database = await pglite.open();
    cleanupDb = () => database.cleanup();
    trust = await startTestTrust(['europe']);
    await seedTrustSnapshot(join(dir.path, 'registry'), trust.signed());
    // The CLI acts as the default profile: the test operator, with its credential.
    const operator = await createProfile(
      join(dir.path, '.vitrine'),
      'operator',
      'operator:test',
      trust.operator.key,
    );
    await saveCredential(operator, trust.operator.credential);
    registry = await startRegistry(
      {
        center: { id: 'europe', jurisdiction: 'EU' },
        jurisdictions: ['APAC', 'EU', 'US'],
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(dir.path, 'registry'),
        access: { url: trust.url, trustKey: trust.trustKey },
        ...(database.url ? { databaseUrl: database.url } : {}),
      },
      { logger: createLogger('cli-e2e', { VITRINE_LOG_LEVEL: 'silent' }) },
    );
    const file = federationFile({ asia: registry.url, europe: registry.url, us: registry.url });
    file.centers = file.centers.filter((center) => center.id === 'europe');
    await writeFile(join(dir.path, '.vitrine', 'federation.json'), JSON.stringify(file));
    await writeFile(join(dir.path, 'router-os.tar'), content);
  });
  afterAll(async () => {
    await registry?.stop();
    await trust?.close();
    await cleanupDb?.();
    await dir?.cleanup();
  });

  it('pushes a multi-chunk file and reports a new artifact', async () => {
    const run = await cli(
      'artifact',
      'push',
      'router-os.tar',
      '--center',
      'europe',
      '--kind',
      'source',
      '--product',
      'router-os',
      '--version',
      '4.2.0',
      '--residency',
      'us,EU',
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const pushed = run.json() as PushJson;
    artifactId = pushed.artifact.id;
    expect(artifactId).toMatch(/^[0-9a-f]{64}$/);
    expect(pushed.created).toBe(true);
    expect(pushed.chunksStored).toBeGreaterThan(1);
    expect(pushed.chunksReused).toBe(0);
    expect(pushed.artifact).toMatchObject({
      size: content.length,
      contentDigest: digest,
      kind: 'source',
      residency: ['EU', 'US'],
      chunkCount: pushed.chunksStored,
    });
  });

  it('pushes the same content again as already present, drawing a progress bar on a terminal', async () => {
    const run = await runCli(
      [
        'artifact',
        'push',
        'router-os.tar',
        '--center',
        'europe',
        '--kind',
        'source',
        '--product',
        'router-os',
        '--version',
        '4.2.0',
        '--residency',
        'EU,US',
      ],
      { cwd: dir.path, isTTY: true },
    );
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(artifactId);
    expect(lines[1]).toBe('  already present at europe: router-os 4.2.0 (source, 5.01 MiB)');
    expect(lines[2]).toMatch(/^ {2}chunks: 0 stored, \d+ reused$/);
    expect(run.stderr).toContain('hashing [');
    expect(run.stderr).toContain('pushing [');
    expect(run.stderr).toContain('100% | 5.01 MiB / 5.01 MiB');
  });

  it('pulls the artifact back byte for byte, leaving no partial file', async () => {
    const run = await cli('artifact', 'pull', artifactId, '-o', 'copy.tar', '--json');
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({
      artifact: { id: artifactId, contentDigest: digest },
      path: join(dir.path, 'copy.tar'),
      bytes: content.length,
    });
    expect(Buffer.compare(await readFile(join(dir.path, 'copy.tar')), content)).toBe(0);
    expect((await readdir(dir.path)).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('pulls to stdout with -o -', async () => {
    const run = await cli('artifact', 'pull', artifactId, '-o', '-');
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(Buffer.compare(run.stdoutBytes, content)).toBe(0);
  });

  it('reports an unknown artifact as NOT_FOUND at europe and writes no file', async () => {
    const missing = 'f'.repeat(64);
    const run = await cli('artifact', 'pull', missing, '-o', 'missing.tar');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`vitrine: artifact ${missing} not found at europe (NOT_FOUND)\n`);
    expect((await readdir(dir.path)).filter((name) => name.startsWith('missing'))).toEqual([]);
    const show = await cli('artifact', 'show', missing, '--json');
    expect(show.code).toBe(1);
    expect(show.json()).toEqual({
      error: { code: 'NOT_FOUND', message: `artifact ${missing} not found at europe` },
    });
  });

  it('lists and shows artifacts, reading from the only center by default', async () => {
    const ls = await cli('artifact', 'ls', '--json');
    expect(ls.code).toBe(0);
    expect(ls.json()).toEqual({
      artifacts: [expect.objectContaining({ id: artifactId, state: 'available' })],
    });
    const none = await cli('artifact', 'ls', '--kind', 'rules', '--json');
    expect(none.json()).toEqual({ artifacts: [] });
    const table = await cli('artifact', 'ls', '--product', 'router-os');
    expect(table.stdout).toMatch(
      new RegExp(
        `^ID +KIND.*\\n${artifactId} +source +router-os +4\\.2\\.0 +5\\.01 MiB +available +europe `,
      ),
    );
    const show = await cli('artifact', 'show', artifactId, '--json');
    expect(show.json()).toMatchObject({
      artifact: { id: artifactId, origin: 'europe', bytesHeld: content.length, supersedes: null },
    });
    const human = await cli('artifact', 'show', artifactId);
    expect(human.stdout).toContain(`sha256:     ${digest}\n`);
  });

  it('creates, updates, comments on and shows a finding', async () => {
    const created = await cli(
      'finding',
      'create',
      '--center',
      'europe',
      '--artifact',
      artifactId,
      '--title',
      'Hard-coded key',
      '--severity',
      'high',
      '--cvss',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      '--severity-reason',
      'only reachable from the build network',
      '--json',
    );
    expect(created.code).toBe(0);
    const { finding } = created.json() as { finding: { id: string } };
    findingId = finding.id;
    expect(findingId).toMatch(/^europe-\d+$/);
    expect(finding).toMatchObject({
      status: 'new',
      severity: 'high',
      severityReason: 'only reachable from the build network',
      cvssScore: 9.8,
      cvssBand: 'critical',
      artifactIds: [artifactId],
      assignee: null,
    });

    const updated = await cli(
      'finding',
      'update',
      findingId,
      '--center',
      'europe',
      '--status',
      'triaged',
      '--assignee',
      'kernel-team',
      '--json',
    );
    expect(updated.code).toBe(0);
    expect(updated.json()).toMatchObject({
      finding: { status: 'triaged', assignee: 'kernel-team' },
    });

    const comment = await cli(
      'finding',
      'comment',
      findingId,
      '--center',
      'europe',
      '--text',
      'Reproduced',
      '--json',
    );
    expect(comment.code).toBe(0);
    expect(comment.json()).toMatchObject({
      comment: { findingId, text: 'Reproduced', origin: 'europe' },
    });

    const shown = await cli('finding', 'show', findingId, '--json');
    expect(shown.code).toBe(0);
    const doc = shown.json() as {
      finding: unknown;
      comments: unknown[];
      history: { change: { type: string } }[];
    };
    expect(doc.finding).toMatchObject({ id: findingId, status: 'triaged', commentCount: 1 });
    expect(doc.comments).toEqual([expect.objectContaining({ text: 'Reproduced' })]);
    expect(doc.history.map((entry) => entry.change.type)).toEqual([
      'created',
      'updated',
      'comment',
    ]);
    expect(doc.history[1]).toMatchObject({
      origin: 'europe',
      change: { type: 'updated', fields: { status: 'triaged', assignee: 'kernel-team' } },
      overwrittenFields: [],
    });

    const human = await cli('finding', 'show', findingId);
    expect(human.stdout).toMatch(/cvss score: +9\.8 \(critical\)\n/);
    expect(human.stdout).toMatch(/severity reason: +only reachable from the build network\n/);
    expect(human.stdout).toContain('comments (1):\n');
    expect(human.stdout).toContain('history (3):\n');
  });

  it('passes on the lifecycle refusal as FAILED_PRECONDITION, exit 1', async () => {
    const run = await cli(
      'finding',
      'update',
      findingId,
      '--center',
      'europe',
      '--status',
      'disclosed',
      '--json',
    );
    expect(run.code).toBe(1);
    expect(run.json()).toEqual({
      error: {
        code: 'FAILED_PRECONDITION',
        message: expect.stringMatching(/^europe: a finding cannot move from triaged to disclosed/),
      },
    });
  });

  it('sets and shows the embargo and the service level, and lists overdue findings', async () => {
    const embargoed = await cli(
      'finding',
      'update',
      findingId,
      '--center',
      'europe',
      '--disclose-after',
      '2999-01-01',
      '--json',
    );
    expect(embargoed.code).toBe(0);
    expect(embargoed.json()).toMatchObject({
      finding: {
        discloseAfter: '2999-01-01T00:00:00.000Z',
        sla: { state: 'on_track', daysToFix: 30, dueAt: expect.any(String) },
      },
    });
    const human = await cli('finding', 'show', findingId);
    expect(human.stdout).toMatch(/sla: +on_track \(30 days to fix, triaged 20\d\d-/);
    expect(human.stdout).toMatch(/embargo until: +2999-01-01T00:00:00\.000Z\n/);
    expect(human.stdout).toMatch(/updated discloseAfter=2999-01-01T00:00:00\.000Z/);
    const overdue = await cli('finding', 'ls', '--overdue', '--json');
    expect(overdue.json()).toEqual({ findings: [] });

    const malformed = await cli(
      'finding',
      'update',
      findingId,
      '--center',
      'europe',
      '--disclose-after',
      'next spring',
      '--json',
    );
    expect(malformed.code).toBe(1);
    expect(malformed.json()).toEqual({
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('disclose_after: must be a date'),
        violations: [
          {
            field: 'disclose_after',
            description:
              'must be a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 date-time, not "next spring"',
          },
        ],
      },
    });
  });

  it('reports an unknown finding as NOT_FOUND', async () => {
    const run = await cli('finding', 'comment', 'europe-999', '--center', 'europe', '--text', 'hi');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('vitrine: finding europe-999 not found at europe (NOT_FOUND)\n');
  });

  it('lists findings with filters', async () => {
    const triaged = await cli(
      'finding',
      'ls',
      '--status',
      'triaged',
      '--artifact',
      artifactId,
      '--json',
    );
    expect(triaged.json()).toEqual({ findings: [expect.objectContaining({ id: findingId })] });
    const low = await cli('finding', 'ls', '--severity', 'low', '--json');
    expect(low.json()).toEqual({ findings: [] });
    const table = await cli('finding', 'ls');
    expect(table.stdout).toMatch(
      new RegExp(
        `^ID +SEVERITY +STATUS +SLA +DUE +ASSIGNEE +CANDIDATE FIX +UPDATED +TITLE\\n${findingId} +high +triaged +on_track +\\S+ +kernel-team +- +\\S+ +Hard-coded key\\n$`,
      ),
    );
  });

  it('prints partner text with control characters as visible escapes, and exactly with --json', async () => {
    const title = 'Key leak\x1b[2J\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07';
    const created = await cli(
      'finding',
      'create',
      '--center',
      'europe',
      '--artifact',
      artifactId,
      '--title',
      title,
      '--severity',
      'low',
      '--json',
    );
    expect(created.code).toBe(0);
    const { finding } = created.json() as { finding: { id: string; title: string } };
    expect(finding.title).toBe(title);
    const commented = await cli(
      'finding',
      'comment',
      finding.id,
      '--center',
      'europe',
      '--text',
      'not reproduced\rreproduced, fixed',
    );
    expect(commented.code).toBe(0);

    const shown = await cli('finding', 'show', finding.id);
    const listed = await cli('finding', 'ls', '--severity', 'low');
    for (const run of [shown, listed]) {
      expect(run.code).toBe(0);
      // No control character (C0, DEL, C1) but the line ends.
      expect(run.stdout.replaceAll('\n', '')).not.toMatch(/\p{Cc}/u);
    }
    const shownTitle = 'Key leak\\u001b[2J\\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\u0007';
    expect(shown.stdout).toMatch(/^title: +Key leak\\u001b\[2J\\u001b\]52;c;\S+==\\u0007$/m);
    expect(shown.stdout).toContain(': not reproduced\\rreproduced, fixed\n');
    expect(listed.stdout).toContain(`  ${shownTitle}\n`);

    const json = await cli('finding', 'show', finding.id, '--json');
    expect(json.json()).toMatchObject({
      finding: { title },
      comments: [{ text: 'not reproduced\rreproduced, fixed' }],
    });
  });

  it('pushes a new version with --supersedes keeping the old residency; widening takes --widen-residency', async () => {
    await writeFile(join(dir.path, 'router-os-4.2.1.bin'), randomBytes(300_000));
    const push = (version: string, ...flags: string[]) =>
      cli(
        'artifact',
        'push',
        'router-os-4.2.1.bin',
        '--center',
        'europe',
        '--kind',
        'update',
        '--product',
        'router-os',
        '--version',
        version,
        '--supersedes',
        artifactId,
        ...flags,
        '--json',
      );
    const inherited = await push('4.2.1');
    expect(inherited.stderr).toBe('');
    expect(inherited.code).toBe(0);
    expect((inherited.json() as PushJson).artifact).toMatchObject({
      residency: ['EU', 'US'],
      residencyWidened: false,
      supersedes: artifactId,
    });

    const refused = await push('4.2.2', '--residency', 'APAC,EU');
    expect(refused.code).toBe(1);
    expect(refused.json()).toEqual({
      error: {
        code: 'FAILED_PRECONDITION',
        message: expect.stringMatching(/^europe: artifact \S+ may be held only in EU, US; .*APAC/),
      },
    });

    const widened = await push('4.2.2', '--residency', 'APAC,EU', '--widen-residency');
    expect(widened.code).toBe(0);
    const pushed = (widened.json() as PushJson).artifact;
    expect(pushed).toMatchObject({ residency: ['APAC', 'EU'], residencyWidened: true });
    const show = await cli('artifact', 'show', pushed.id);
    expect(show.stdout).toMatch(
      /\nresidency: +APAC, EU \(widened from the superseded artifact's\)\nsupersedes: +[0-9a-f]{64}\n/,
    );
  });

  it('scores a vector, takes the severity from its band, and passes on CVSS refusals', async () => {
    const create = (...extra: string[]) =>
      cli(
        'finding',
        'create',
        '--center',
        'europe',
        '--artifact',
        artifactId,
        '--title',
        'Scored',
        ...extra,
        '--json',
      );
    const banded = await create(
      '--cvss',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L',
    );
    expect(banded.code).toBe(0);
    expect(banded.json()).toMatchObject({
      finding: { severity: 'high', cvssScore: 7.8, cvssBand: 'high', severityReason: null },
    });

    const duplicated = await create('--cvss', 'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H');
    expect(duplicated.code).toBe(1);
    expect(duplicated.json()).toEqual({
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('cvss_vector: metric AV is given more than once'),
        // Without a valid vector there is no band to take the severity from either.
        violations: [
          { field: 'cvss_vector', description: 'metric AV is given more than once' },
          {
            field: 'severity',
            description: expect.stringContaining('or left out with a cvss_vector'),
          },
        ],
      },
    });
    const unexplained = await create(
      '--severity',
      'low',
      '--cvss',
      'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    );
    expect(unexplained.code).toBe(1);
    expect(unexplained.json()).toEqual({
      error: {
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(
          'severity_reason: severity low differs from critical, the band of CVSS score 9.8',
        ),
        violations: [{ field: 'severity_reason', description: expect.any(String) }],
      },
    });
    const neither = await create();
    expect(neither.code).toBe(2);
    expect(neither.stdout + neither.stderr).toContain(
      'give --severity, or --cvss for the severity to follow its score',
    );
  });
});
