import { create } from '@bufbuild/protobuf';
import { sealEvent } from '@vitrine/events';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { EventBodySchema, type SignedEvent, SignedEventSchema } from '@vitrine/proto/event';
import { FindingCreatedSchema, FindingStatus, Severity } from '@vitrine/proto/finding';
import {
  AddCommentRequestSchema,
  CreateFindingRequestSchema,
  PushArtifactRequestSchema,
  UpdateFindingRequestSchema,
} from '@vitrine/proto/registry';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../src/event-log.js';
import { Findings } from '../src/findings.js';
import { registryMigrations } from '../src/migrations/index.js';
import { findFinding } from '../src/queries/findings.js';
import type { RegistryDatabase } from '../src/schema.js';
import { randomContent, uploadOf } from './harness.js';
import { openTestCenter, type TestCenter } from './test-center.js';

async function* upload(version: string) {
  const meta = { kind: ArtifactKind.UPDATE, product: 'agent', version };
  for await (const m of uploadOf(meta, randomContent(4000))) {
    yield create(PushArtifactRequestSchema, m);
  }
}

const push = async (c: TestCenter, version: string) =>
  (await c.artifacts.push('operator', upload(version), new AbortController().signal)).artifact.id;

const newFinding = (artifactId: string, title: string) =>
  create(CreateFindingRequestSchema, { artifactIds: [artifactId], title, severity: Severity.LOW });

/** Copies every event `from` holds of its own log to `to`, then stops following. */
async function syncOwnLog(from: TestCenter, to: TestCenter): Promise<void> {
  const head = (await from.replica.versionVector()).get(from.id) ?? 0n;
  const vector = await to.replica.versionVector();
  const lacked = Number(head - (vector.get(from.id) ?? 0n));
  const stop = new AbortController();
  const events: SignedEvent[] = [];
  for await (const event of from.replica.feed(to, vector, stop.signal)) {
    events.push(event);
    if (events.length === lacked) stop.abort();
  }
  const report = await to.replica.ingestAll(events);
  expect(report.refusal).toBeUndefined();
}

describe.each(testBackends())('finding numbers on $name', (backend) => {
  const keys = new Map<string, Uint8Array>();
  let eu: TestCenter;
  let us: TestCenter;
  let artifact = '';

  beforeAll(async () => {
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    us = await openTestCenter(backend, 'us', 'US', keys);
    artifact = await push(eu, '1.0');
  });
  afterAll(async () => {
    await eu?.cleanup();
    await us?.cleanup();
  });

  it('numbers findings 1, 2, 3 at their origin whatever events come between, and a replica shows the same ids', async () => {
    const first = await eu.findings.create('alice', newFinding(artifact, 'one'));
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: first.id, text: 'seen' }),
    );
    await eu.findings.update(
      'bob',
      create(UpdateFindingRequestSchema, { id: first.id, status: FindingStatus.TRIAGED }),
    );
    const second = await eu.findings.create('alice', newFinding(artifact, 'two'));
    const other = await push(eu, '1.1');
    const third = await eu.findings.create('alice', newFinding(other, 'three'));
    expect([first.id, second.id, third.id]).toEqual(['europe-1', 'europe-2', 'europe-3']);
    // The third finding's creating event is the seventh of the log.
    expect((await eu.replica.versionVector()).get('europe')).toBe(7n);

    await syncOwnLog(eu, us);
    for (const id of ['europe-1', 'europe-2', 'europe-3']) {
      const there = await findFinding(us.database.db, id);
      expect(there).toBeDefined();
      expect(there).toEqual(await findFinding(eu.database.db, id));
    }
  });

  it('never gives concurrent creates at one center the same number', async () => {
    const before = await eu.findings.create('alice', newFinding(artifact, 'before'));
    const start = Number(before.id.split('-')[1]);
    const made = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        eu.findings.create('alice', newFinding(artifact, `parallel ${i}`)),
      ),
    );
    const numbers = made.map((f) => Number(f.id.split('-')[1])).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, i) => start + 1 + i));
  });

  it('refuses with DATA_LOSS a finding a peer names among another center’s ids, and numbers on', async () => {
    const before = await eu.findings.create('alice', newFinding(artifact, 'before the forgery'));
    const taken = BigInt(before.id.split('-')[1] ?? '0') + 1n;
    const head = await us.database.db
      .selectFrom('log_heads')
      .selectAll()
      .where('origin', '=', 'us')
      .executeTakeFirst();
    const value = create(FindingCreatedSchema, {
      findingId: `europe-${taken}`,
      artifactIds: [artifact],
      title: 'minted by us in europe’s ids',
      severity: Severity.LOW,
    });
    const body = create(EventBodySchema, {
      actor: 'mallory',
      change: { case: 'findingCreated', value },
    });
    const fields = {
      origin: 'us',
      seq: (head?.seq ?? 0n) + 1n,
      hlc: (head?.hlc ?? 0n) + 1n,
      prevDigest: head?.digest ?? new Uint8Array(),
      residency: [],
    };
    const sealed = await sealEvent(fields, body, us.key);
    const event = create(SignedEventSchema, {
      header: sealed.headerBytes,
      signature: sealed.signature,
      body: sealed.bodyBytes ?? new Uint8Array(),
    });
    const refusal = await eu.replica.ingest(event).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toMatchObject({ code: 'data_loss', message: expect.stringMatching(/europe-/) });
    expect(await findFinding(eu.database.db, `europe-${taken}`)).toBeUndefined();
    const next = await eu.findings.create('alice', newFinding(artifact, 'after the forgery'));
    expect(next.id).toBe(`europe-${taken}`);
  });

  it('keeps the ids of findings recorded before per-center numbering, and continues after them', async () => {
    const target = await backend.open();
    const database = await openDatabase<RegistryDatabase>(target);
    try {
      const before = Object.fromEntries(
        Object.entries(registryMigrations).filter(([name]) => name < '0004'),
      );
      await migrateToLatest(database.db, before);
      // Data as the registry recorded it before: finding ids after their event's sequence.
      await database.db.insertInto('artifacts').values(oldArtifact).execute();
      for (const id of ['europe-2', 'europe-15', 'asia-7', 'europe-import']) {
        await database.db
          .insertInto('findings')
          .values(oldFinding(id, id.startsWith('asia') ? 'asia' : 'europe'))
          .execute();
      }
      await migrateToLatest(database.db, registryMigrations);
      const rows = await database.db
        .selectFrom('findings')
        .select(['id', 'number'])
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { id: 'asia-7', number: 7n },
        { id: 'europe-15', number: 15n },
        { id: 'europe-2', number: 2n },
        { id: 'europe-import', number: null },
      ]);
      const artifacts = await database.db
        .selectFrom('artifacts')
        .select(['id', 'residency_widened'])
        .execute();
      expect(artifacts).toEqual([{ id: oldArtifact.id, residency_widened: false }]);

      const identity = { id: 'europe', jurisdiction: 'EU', signingKey: eu.key };
      const findings = new Findings(database.db, new EventLog(identity), 'europe');
      const next = await findings.create('alice', newFinding(oldArtifact.id, 'after the old'));
      const then = await findings.create('alice', newFinding(oldArtifact.id, 'and next'));
      expect([next.id, then.id]).toEqual(['europe-16', 'europe-17']);
    } finally {
      await database.close();
      await target.cleanup();
    }
  });
});

/** An artifact row as the registry stored one before residency widening was recorded. */
const oldArtifact = {
  id: 'a'.repeat(64),
  kind: 'update',
  product: 'agent',
  version: '0.9',
  size: 0n,
  content_digest: new Uint8Array(32),
  chunk_count: 0,
  residency: [],
  supersedes: '',
  origin: 'europe',
  published_hlc: 1n,
  manifest: new Uint8Array(),
  manifest_signature: new Uint8Array(64),
  state: 'available' as const,
  bytes_held: 0n,
};

/** A finding row as the registry stored one before findings were numbered. */
function oldFinding(id: string, origin: string) {
  return {
    id,
    origin,
    title: 't',
    description: '',
    severity: 'low',
    cvss_vector: '',
    status: 'new',
    assignee: '',
    fix_artifact_id: '',
    residency: [],
    created_hlc: 1n,
    updated_hlc: 1n,
  };
}
