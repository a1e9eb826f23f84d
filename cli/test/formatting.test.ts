import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ArtifactKind, ArtifactSchema, ArtifactState } from '@vitrine/proto/artifact';
import { artifactKinds, findingStatuses, severities } from '@vitrine/proto/enum-words';
import {
  FindingHistoryEntrySchema,
  FindingSchema,
  FindingStatus,
  Severity,
  SlaState,
} from '@vitrine/proto/finding';
import { describe, expect, it } from 'vitest';
import { artifactDetailLines, artifactJson, artifactTableLines } from '../src/artifact-view.js';
import { CliError } from '../src/cli-error.js';
import { readyLines, withPortHint } from '../src/dev-command.js';
import {
  findingDetailLines,
  findingJson,
  historyEntryJson,
  historyLines,
} from '../src/finding-view.js';
import { isoTime, orNull, safeNumber } from '../src/plain-values.js';
import { formatFields, formatTable } from '../src/text-table.js';
import { formatProgressLine } from '../src/transfer-progress.js';
import { formatBytes, formatDuration, formatRate } from '../src/units.js';

const published = timestampFromDate(new Date('2025-06-01T10:20:30.000Z'));
const artifact = create(ArtifactSchema, {
  id: 'a'.repeat(64),
  kind: ArtifactKind.UPDATE,
  product: 'router-os',
  version: '4.2.1',
  size: 5_242_880n,
  contentDigest: 'b'.repeat(64),
  chunkCount: 3,
  residency: ['EU', 'US'],
  origin: 'europe',
  publishedAt: published,
  state: ArtifactState.REPLICATING,
  bytesHeld: 1_048_576n,
});

describe('units', () => {
  it('formats byte counts in powers of 1024', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(1536 * 1024)).toBe('1.50 MiB');
    expect(formatBytes(285.3 * 1024 ** 2)).toBe('285 MiB');
    expect(formatBytes(12.25 * 1024 ** 3)).toBe('12.3 GiB');
    expect(formatBytes(-1)).toBe('?');
  });

  it('formats rates in MB/s and remaining time', () => {
    expect(formatRate(35_200_000, 1000)).toBe('35.2 MB/s');
    expect(formatRate(1, 0)).toBe('-- MB/s');
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(125.4)).toBe('2:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('--:--');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});

describe('text layout', () => {
  it('aligns table columns under upper-case headers without trailing blanks', () => {
    expect(
      formatTable(
        ['id', 'title'],
        [
          ['europe-1', 'Hard-coded key'],
          ['us-12', 'x'],
        ],
      ),
    ).toEqual(['ID        TITLE', 'europe-1  Hard-coded key', 'us-12     x']);
  });

  it('aligns label: value pairs and drops empty values', () => {
    expect(
      formatFields([
        ['id', 'x'],
        ['assignee', ''],
        ['severity', 'high'],
      ]),
    ).toEqual(['id:        x', 'severity:  high']);
  });

  it('draws a progress line with bytes, rate and ETA', () => {
    const line = formatProgressLine({
      phase: 'pushing',
      value: 50 * 1024 ** 2,
      total: 100 * 1024 ** 2,
      elapsedMs: 2000,
      etaSeconds: 2,
    });
    expect(line).toBe(
      `pushing [${'='.repeat(15)}${'-'.repeat(15)}]  50% | 50.0 MiB / 100 MiB | 26.2 MB/s | ETA 0:02`,
    );
    const done = formatProgressLine({
      phase: 'pulling',
      value: 10,
      total: 10,
      elapsedMs: 0,
      etaSeconds: Number.NaN,
    });
    expect(done).toBe(`pulling [${'='.repeat(30)}] 100% | 10 B / 10 B | -- MB/s | ETA 0:00`);
  });
});

describe('plain values', () => {
  it('keeps uint64 values as numbers while safe, as strings beyond', () => {
    expect(safeNumber(42n)).toBe(42);
    expect(safeNumber(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(safeNumber(2n ** 64n - 1n)).toBe('18446744073709551615');
  });

  it('prints timestamps as ISO strings and absent values as null', () => {
    expect(isoTime(published)).toBe('2025-06-01T10:20:30.000Z');
    expect(isoTime(undefined)).toBeNull();
    expect(orNull('')).toBeNull();
    expect(orNull('x')).toBe('x');
  });

  it('maps proto enums to lower-case words and back', () => {
    expect(artifactKinds.words).toEqual(['source', 'update', 'rules']);
    expect(artifactKinds.value('rules')).toBe(ArtifactKind.RULES);
    expect(findingStatuses.value('in_progress')).toBe(FindingStatus.IN_PROGRESS);
    expect(findingStatuses.label(FindingStatus.DUPLICATE)).toBe('duplicate');
    expect(severities.label(Severity.UNSPECIFIED)).toBe('unspecified');
    expect(severities.label(99)).toBe('unknown(99)');
  });
});

describe('artifact output', () => {
  it('converts an artifact to plain JSON', () => {
    expect(artifactJson(artifact)).toEqual({
      id: 'a'.repeat(64),
      kind: 'update',
      product: 'router-os',
      version: '4.2.1',
      size: 5_242_880,
      contentDigest: 'b'.repeat(64),
      chunkCount: 3,
      residency: ['EU', 'US'],
      residencyWidened: false,
      supersedes: null,
      origin: 'europe',
      publishedAt: '2025-06-01T10:20:30.000Z',
      state: 'replicating',
      bytesHeld: 1_048_576,
    });
  });

  it('shows the fields and how much of a replicating artifact is held', () => {
    const lines = artifactDetailLines(artifact);
    expect(lines).toContain('size:       5.00 MiB (5242880 bytes)');
    expect(lines).toContain('residency:  EU, US');
    expect(lines).toContain('held:       1.00 MiB of 5.00 MiB');
    expect(lines.some((line) => line.startsWith('supersedes'))).toBe(false);
  });

  it('says when a new version was allowed wider than the one it supersedes', () => {
    const widened = { ...artifact, supersedes: 'c'.repeat(64), residencyWidened: true };
    expect(artifactDetailLines(widened)).toContainEqual(
      expect.stringMatching(/^residency: +EU, US \(widened from the superseded artifact's\)$/),
    );
    expect(artifactJson(widened)).toMatchObject({ residencyWidened: true });
  });

  it('lists artifacts as a table, or says there are none', () => {
    const [header, row] = artifactTableLines([artifact], 'europe');
    expect(header).toMatch(/^ID +KIND +PRODUCT +VERSION +SIZE +STATE +ORIGIN +PUBLISHED$/);
    expect(row).toMatch(
      /^a{64} +update +router-os +4\.2\.1 +5\.00 MiB +replicating +europe +2025-06-01T10:20:30\.000Z$/,
    );
    expect(artifactTableLines([], 'asia')).toEqual(['no artifacts at asia']);
  });
});

describe('finding output', () => {
  it('converts a finding to plain JSON with enum words and nulls', () => {
    const finding = create(FindingSchema, {
      id: 'europe-17',
      artifactIds: ['a'.repeat(64)],
      title: 'Hard-coded key',
      severity: Severity.HIGH,
      status: FindingStatus.IN_PROGRESS,
      assignee: 'kernel-team',
      origin: 'europe',
      createdAt: published,
      commentCount: 2,
    });
    expect(findingJson(finding)).toEqual({
      id: 'europe-17',
      artifactIds: ['a'.repeat(64)],
      title: 'Hard-coded key',
      description: null,
      severity: 'high',
      severityReason: null,
      cvssVector: null,
      cvssScore: null,
      cvssBand: null,
      status: 'in_progress',
      assignee: 'kernel-team',
      fixArtifactId: null,
      origin: 'europe',
      createdAt: '2025-06-01T10:20:30.000Z',
      updatedAt: null,
      commentCount: 2,
      duplicateOf: null,
      duplicates: [],
      // A registry that does not send an effective status: the status is the one that counts.
      effectiveStatus: 'in_progress',
      ruleId: null,
      tool: null,
      locations: [],
      fingerprint: null,
      candidateFixArtifactId: null,
      sla: { state: 'unspecified', daysToFix: null, triagedAt: null, dueAt: null },
      discloseAfter: null,
    });
  });

  it('shows a duplicate with its original, its effective status and its own duplicates', () => {
    const finding = create(FindingSchema, {
      id: 'asia-4',
      title: 'Fixed password in updater',
      severity: Severity.HIGH,
      status: FindingStatus.DUPLICATE,
      effectiveStatus: FindingStatus.FIXED,
      duplicateOf: 'europe-17',
      duplicates: ['us-2'],
      origin: 'asia',
    });
    expect(findingJson(finding)).toMatchObject({
      status: 'duplicate',
      effectiveStatus: 'fixed',
      duplicateOf: 'europe-17',
      duplicates: ['us-2'],
    });
    const lines = findingDetailLines(finding);
    expect(lines).toContain('status:        duplicate (effective: fixed)');
    expect(lines).toContain('duplicate of:  europe-17');
    expect(lines).toContain('duplicates:    us-2');
  });

  it('shows the service level, due date and embargo', () => {
    const finding = create(FindingSchema, {
      id: 'europe-20',
      title: 'Late fix',
      severity: Severity.CRITICAL,
      status: FindingStatus.IN_PROGRESS,
      slaState: SlaState.OVERDUE,
      daysToFix: 7,
      triagedAt: published,
      dueAt: timestampFromDate(new Date('2025-06-08T10:20:30.000Z')),
      discloseAfter: timestampFromDate(new Date('2025-09-01T00:00:00.000Z')),
    });
    expect(findingJson(finding)).toMatchObject({
      sla: {
        state: 'overdue',
        daysToFix: 7,
        triagedAt: '2025-06-01T10:20:30.000Z',
        dueAt: '2025-06-08T10:20:30.000Z',
      },
      discloseAfter: '2025-09-01T00:00:00.000Z',
    });
    const text = findingDetailLines(finding).join('\n');
    expect(text).toMatch(/sla: +overdue \(7 days to fix, triaged 2025-06-01T10:20:30\.000Z\)/);
    expect(text).toMatch(/due: +2025-06-08T10:20:30\.000Z/);
    expect(text).toMatch(/embargo until: +2025-09-01T00:00:00\.000Z/);
  });

  it('shows a scored finding’s score with its band, and the reason for its severity', () => {
    const finding = create(FindingSchema, {
      id: 'europe-18',
      title: 'Debug port',
      severity: Severity.LOW,
      severityReason: 'lab network only',
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N',
      cvssScore: 9.1,
    });
    expect(findingJson(finding)).toMatchObject({
      severity: 'low',
      severityReason: 'lab network only',
      cvssScore: 9.1,
      cvssBand: 'critical',
    });
    const unscoredZero = create(FindingSchema, { id: 'europe-19', cvssScore: 0 });
    expect(findingJson(unscoredZero)).toMatchObject({ cvssScore: 0, cvssBand: 'none' });
    const text = findingDetailLines(finding).join('\n');
    expect(text).toMatch(/cvss score: +9\.1 \(critical\)/);
    expect(text).toMatch(/severity reason: +lab network only/);
  });

  it('keeps only the fields an update set, and flags overwritten ones', () => {
    const entry = create(FindingHistoryEntrySchema, {
      origin: 'us',
      seq: 9n,
      at: published,
      actor: 'operator@us',
      change: {
        case: 'updated',
        value: { findingId: 'europe-17', status: FindingStatus.TRIAGED, assignee: 'kernel-team' },
      },
      overwrittenFields: ['assignee'],
    });
    expect(historyEntryJson(entry)).toEqual({
      origin: 'us',
      seq: 9,
      at: '2025-06-01T10:20:30.000Z',
      actor: 'operator@us',
      change: { type: 'updated', fields: { status: 'triaged', assignee: 'kernel-team' } },
      overwrittenFields: ['assignee'],
    });
    expect(historyLines([entry])).toEqual([
      '2025-06-01T10:20:30.000Z  us#9  operator@us  updated status=triaged, assignee=kernel-team  [conflict: assignee overwritten]',
    ]);
  });
});

describe('vitrine dev messages', () => {
  const federation = {
    access: { id: 'access', url: 'http://127.0.0.1:9400' },
    centers: [
      {
        id: 'europe',
        jurisdiction: 'EU',
        registry: 'http://127.0.0.1:9420',
        sync: 'http://127.0.0.1:9421',
        publicKey: 'k',
      },
    ],
  };

  it('lists every endpoint and a command to try', () => {
    expect(readyLines('/repo/.vitrine', '/repo', federation)).toEqual([
      'vitrine federation running (data: /repo/.vitrine)',
      '  access   http://127.0.0.1:9400',
      '  europe   EU    registry http://127.0.0.1:9420   sync http://127.0.0.1:9421',
      'logs: /repo/.vitrine/logs   try: vitrine artifact ls --center europe   stop: Ctrl-C',
    ]);
  });

  it("lists each process's own Prometheus endpoint when metrics are exported", () => {
    const metrics = {
      access: 'http://127.0.0.1:9402/metrics',
      europe: 'http://127.0.0.1:9422/metrics',
    };
    expect(readyLines('/repo/.vitrine', '/repo', federation, metrics).slice(1, 3)).toEqual([
      '  access   http://127.0.0.1:9400   metrics http://127.0.0.1:9402/metrics',
      '  europe   EU    registry http://127.0.0.1:9420   sync http://127.0.0.1:9421   metrics http://127.0.0.1:9422/metrics',
    ]);
  });

  it('names a data folder other than ./.vitrine in the command to try', () => {
    expect(readyLines('/tmp/fed', '/repo', federation).at(-1)).toBe(
      'logs: /tmp/fed/logs   try: vitrine artifact ls --center europe --data /tmp/fed   stop: Ctrl-C',
    );
  });

  it('says which ports vitrine dev needs and how to move them when one is taken', () => {
    const taken = new CliError(
      'UNAVAILABLE',
      'access failed to start: listen EADDRINUSE: address already in use 127.0.0.1:7400',
    );
    const explained = withPortHint(taken, 7400) as CliError;
    expect(explained.code).toBe('UNAVAILABLE');
    expect(explained.message).toBe(
      'access failed to start: listen EADDRINUSE: address already in use 127.0.0.1:7400 — vitrine dev listens on 7400-7402 and 7410-7432; stop what holds the port (another `vitrine dev`?) or pass --base-port N, e.g. --base-port 8400',
    );
    const other = new CliError('UNAVAILABLE', 'asia failed to start: no such database');
    expect(withPortHint(other, 7400)).toBe(other);
  });
});
