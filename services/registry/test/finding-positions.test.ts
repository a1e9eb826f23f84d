import { create } from '@bufbuild/protobuf';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { CreateFindingRequestSchema, PushArtifactRequestSchema } from '@vitrine/proto/registry';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFinding } from '../src/convert.js';
import { FindingWatch, type WatchItem } from '../src/finding-watch.js';
import { findFinding } from '../src/queries/findings.js';
import { WatchPositions } from '../src/watch-position.js';
import { randomContent, uploadOf } from './harness.js';
import { openTestCenter, pendingFeed, type TestCenter } from './test-center.js';

/**
 * Watch positions are taken under the center's log-head lock, so they commit in order even
 * while local writes and events from a peer commit concurrently (on PostgreSQL, in separate
 * connections): a reader following the positions never passes one that commits later.
 */
describe.each(testBackends())('finding watch positions on $name', (backend) => {
  let eu: TestCenter;
  let us: TestCenter;

  async function* upload() {
    const meta = { kind: ArtifactKind.SOURCE, product: 'agent', version: '1', residency: [] };
    for await (const m of uploadOf(meta, randomContent(3_000))) {
      yield create(PushArtifactRequestSchema, m);
    }
  }
  const publish = async (c: TestCenter) =>
    (await c.artifacts.push('operator', upload(), new AbortController().signal)).artifact.id;
  const finding = (artifactId: string, i: number) =>
    create(CreateFindingRequestSchema, {
      artifactIds: [artifactId],
      title: `finding ${i}`,
      severity: Severity.MEDIUM,
    });

  beforeAll(async () => {
    const keys = new Map<string, Uint8Array>();
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    us = await openTestCenter(backend, 'us', 'US', keys);
  });
  afterAll(async () => {
    await eu.cleanup();
    await us.cleanup();
  });

  it('are followed with none passed by while local and peer changes commit concurrently', async () => {
    const local = await publish(eu);
    const remote = await publish(us);
    for (let i = 0; i < 30; i += 1) await us.findings.create('peer', finding(remote, i));
    const fromPeer = await pendingFeed(us, eu);
    const watch = new FindingWatch(
      eu.database.db,
      eu.log.changes,
      new WatchPositions(eu.key.secretKey),
      60_000,
    );
    const stop = new AbortController();
    const seen: WatchItem[] = [];
    const following = (async () => {
      for await (const item of watch.watch(await watch.from(''), {}, stop.signal)) {
        seen.push(item);
        if (seen.length === 60) stop.abort();
      }
    })();
    const ingesting = (async () => {
      for (let i = 0; i < fromPeer.length; i += 3) {
        await eu.replica.ingestAll(fromPeer.slice(i, i + 3));
      }
    })();
    const writes = Array.from({ length: 30 }, (_, i) =>
      eu.findings.create('op', finding(local, i)),
    );
    await Promise.all([ingesting, ...writes]);
    await following;
    const recorded = await eu.database.db
      .selectFrom('finding_changes')
      .select(['position', 'origin', 'seq'])
      .orderBy('position')
      .execute();
    expect(recorded).toHaveLength(60);
    const key = (c: { origin: string; seq: bigint }) => `${c.origin}/${c.seq}`;
    expect(seen.map((item) => (item.kind === 'change' ? key(item) : 'heartbeat'))).toEqual(
      recorded.map(key),
    );
    expect(seen.map((item) => item.position)).toEqual(recorded.map((r) => r.position));
    // A creation records the finding as its event gives it, without reading it back: the
    // same as reading it (none of these findings changed since).
    for (const item of seen) {
      if (item.kind !== 'change') continue;
      const row = await findFinding(eu.database.db, item.finding.id);
      expect(row && toFinding(row, { duplicates: [], effectiveStatus: row.status })).toEqual(
        item.finding,
      );
    }
  });
});
