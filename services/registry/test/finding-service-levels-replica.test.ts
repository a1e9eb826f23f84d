import { create } from '@bufbuild/protobuf';
import { resolveServiceLevels } from '@vitrine/channel';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity, SlaState } from '@vitrine/proto/finding';
import {
  CreateFindingRequestSchema,
  PushArtifactRequestSchema,
  UpdateFindingRequestSchema,
} from '@vitrine/proto/registry';
import { TestClock, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFinding } from '../src/convert.js';
import { findFinding } from '../src/queries/findings.js';
import { ServiceLevels } from '../src/service-levels.js';
import { randomContent, uploadOf } from './harness.js';
import { openTestCenter, type TestCenter } from './test-center.js';

const DAY = 86_400_000;
const LEVELS = new ServiceLevels(resolveServiceLevels({ jurisdictions: { US: { critical: 3 } } }), [
  'EU',
  'US',
]);

/** Applies at `to` what `from` would send it right now (stops once the feed is idle). */
async function sync(from: TestCenter, to: TestCenter): Promise<number> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 300);
  let count = 0;
  for await (const event of from.replica.feed(to, await to.replica.versionVector(), stop.signal)) {
    await to.replica.ingest(event);
    count++;
  }
  clearTimeout(timer);
  return count;
}

describe.each(testBackends())('service levels and embargoes replicate on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  // The US center's clock runs an hour behind europe's.
  const euClock = new TestClock('2030-03-01T09:00:00Z');
  const usClock = new TestClock('2030-03-01T08:00:00Z');
  let eu: TestCenter;
  let us: TestCenter;
  let source = '';

  beforeAll(async () => {
    const keys = new Map<string, Uint8Array>();
    eu = await openTestCenter(backend, 'europe', 'EU', keys, euClock.nowMs);
    cleanups.push(eu.cleanup);
    us = await openTestCenter(backend, 'us', 'US', keys, usClock.nowMs);
    cleanups.push(us.cleanup);
    async function* requests() {
      const meta = { kind: ArtifactKind.SOURCE, product: 'agent', version: '1.0', residency: [] };
      for await (const m of uploadOf(meta, randomContent(4000))) {
        yield create(PushArtifactRequestSchema, m);
      }
    }
    source = (await eu.artifacts.push('op', requests(), new AbortController().signal)).artifact.id;
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  /** The finding as each center would show it at the same moment. */
  async function views(id: string, nowMs: number) {
    return Promise.all(
      [eu, us].map(async (center) => {
        const row = await findFinding(center.database.db, id);
        if (!row) throw new Error(`${center.id} does not hold ${id}`);
        return toFinding(
          row,
          { duplicates: [], effectiveStatus: row.status },
          LEVELS.of(row, nowMs),
        );
      }),
    );
  }

  it('gives every center the same due date and embargo after concurrent triage and changes', async () => {
    const f = await eu.findings.create(
      'alice',
      create(CreateFindingRequestSchema, {
        artifactIds: [source],
        title: 'Token reuse',
        severity: Severity.HIGH,
        discloseAfter: '2030-06-01',
      }),
    );
    await sync(eu, us);
    euClock.advance(DAY);
    usClock.advance(DAY);
    // Both centers triage it before hearing of the other's triage: the earlier one counts.
    const triage = create(UpdateFindingRequestSchema, { id: f.id, status: FindingStatus.TRIAGED });
    await eu.findings.update('alice', triage);
    await us.findings.update('bob', triage);
    await sync(eu, us);
    await sync(us, eu);
    const [euView, usView] = await views(f.id, euClock.nowMs());
    expect(usView).toEqual(euView);
    const usTriage = usClock.nowMs();
    expect(euView?.dueAt).toEqual(usView?.dueAt);
    expect(Number(euView?.dueAt?.seconds) * 1000).toBe(usTriage + 30 * DAY);

    // Concurrently: europe raises the severity, the US moves the embargo.
    await eu.findings.update(
      'alice',
      create(UpdateFindingRequestSchema, { id: f.id, severity: Severity.CRITICAL }),
    );
    await us.findings.update(
      'bob',
      create(UpdateFindingRequestSchema, { id: f.id, discloseAfter: '2030-07-15T12:00:00Z' }),
    );
    await sync(eu, us);
    await sync(us, eu);
    const [after, there] = await views(f.id, euClock.nowMs() + 4 * DAY);
    expect(there).toEqual(after);
    // Held everywhere, so the US's 3 days for critical apply: overdue four days on.
    expect(after).toMatchObject({ daysToFix: 3, slaState: SlaState.OVERDUE });
    expect(Number(after?.dueAt?.seconds) * 1000).toBe(usTriage + 3 * DAY);
    expect(after?.discloseAfter?.seconds).toBe(BigInt(Date.parse('2030-07-15T12:00:00Z') / 1000));
    expect(await eu.replica.stateDigest()).toBe(await us.replica.stateDigest());
  });
});
