import { create } from '@bufbuild/protobuf';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { ArtifactKind } from '@vitrine/proto/artifact';
import {
  ArtifactPublishedSchema,
  EventBodySchema,
  type SignedEvent,
  SignedEventSchema,
} from '@vitrine/proto/event';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import {
  AddCommentRequestSchema,
  CreateFindingRequestSchema,
  PushArtifactRequestSchema,
  UpdateFindingRequestSchema,
} from '@vitrine/proto/registry';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFinding } from '../src/queries/findings.js';
import { randomContent, uploadOf } from './harness.js';
import { drainFeed, openTestCenter, type TestCenter } from './test-center.js';

type Center = TestCenter;

/** Applies at `to` what `from` would send it right now; returns those events. */
async function sync(from: Center, to: Center): Promise<SignedEvent[]> {
  return drainFeed(from, to, await to.replica.versionVector(), (e) => to.replica.ingest(e));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'unknown',
  );
}

describe.each(testBackends())('replication between two centers on $name', (backend) => {
  const centers: Center[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let eu: Center;
  let us: Center;
  let source = '';

  async function openCenter(id: string, jurisdiction: string, keys: Map<string, Uint8Array>) {
    const center = await openTestCenter(backend, id, jurisdiction, keys);
    cleanups.push(center.cleanup);
    centers.push(center);
    return center;
  }

  async function* requests(version: string, residency: string[]) {
    const meta = { kind: ArtifactKind.UPDATE, product: 'agent', version, residency };
    for await (const m of uploadOf(meta, randomContent(5000)))
      yield create(PushArtifactRequestSchema, m);
  }
  const push = (c: Center, version: string, residency: string[] = []) =>
    c.artifacts.push('operator', requests(version, residency), new AbortController().signal);

  beforeAll(async () => {
    const keys = new Map<string, Uint8Array>();
    eu = await openCenter('europe', 'EU', keys);
    us = await openCenter('us', 'US', keys);
    source = (await push(eu, '1.0')).artifact.id;
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('brings a peer to the same findings, comments and history', async () => {
    const f = await eu.findings.create(
      'alice',
      create(CreateFindingRequestSchema, {
        artifactIds: [source],
        title: 'Token in logs',
        description: '',
        severity: Severity.HIGH,
        cvssVector: '',
      }),
    );
    await eu.findings.update(
      'alice',
      create(UpdateFindingRequestSchema, {
        id: f.id,
        status: FindingStatus.TRIAGED,
        assignee: 'agent-team',
      }),
    );
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: f.id, text: 'seen on 1.0' }),
    );
    const sent = await sync(eu, us);
    expect(sent).toHaveLength(4);
    const there = await findFinding(us.database.db, f.id);
    const here = await findFinding(eu.database.db, f.id);
    expect(there).toEqual(here);
    expect(await us.replica.versionVector()).toEqual(new Map([['europe', 4n]]));
    const artifact = await us.database.db
      .selectFrom('artifacts')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(artifact).toMatchObject({
      id: source,
      origin: 'europe',
      state: 'replicating',
      bytes_held: 0n,
    });
  });

  it('takes an event twice as a duplicate, and refuses a gap', async () => {
    const [first] = await collect(eu, new Map());
    expect(await us.replica.ingest(first as SignedEvent)).toBe('duplicate');
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'one' }),
    );
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'two' }),
    );
    const pending = await collect(eu, await us.replica.versionVector());
    expect(pending).toHaveLength(2);
    expect(await codeOf(us.replica.ingest(pending[1] as SignedEvent))).toBe('failed_precondition');
    expect(await us.replica.ingest(pending[0] as SignedEvent)).toBe('applied');
    expect(await us.replica.ingest(pending[1] as SignedEvent)).toBe('applied');
  });

  it('refuses tampered, forged and equivocating events with DATA_LOSS, applying nothing', async () => {
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'three' }),
    );
    const [next] = await collect(eu, await us.replica.versionVector());
    const event = next as SignedEvent;
    const flip = (b: Uint8Array) => {
      const c = b.slice();
      c[c.length - 1] ^= 1;
      return c;
    };
    const forger = await generateSigningKeyPair();
    const { signDetached } = await import('@vitrine/crypto');
    const forged = await signDetached(forger, 'vitrine/event/v1\n', event.header);
    const variants = [
      create(SignedEventSchema, { ...event, body: flip(event.body) }),
      create(SignedEventSchema, { ...event, header: flip(event.header) }),
      create(SignedEventSchema, { ...event, signature: forged }),
    ];
    for (const bad of variants) expect(await codeOf(us.replica.ingest(bad))).toBe('data_loss');
    expect(await us.replica.versionVector()).toEqual(new Map([['europe', 6n]]));
    expect(await us.replica.ingest(event)).toBe('applied');

    // The origin signs a different event with a sequence the peer already holds.
    const { sealEvent } = await import('@vitrine/events');
    const { EventHeaderSchema, EventBodySchema } = await import('@vitrine/proto/event');
    const { fromBinary } = await import('@bufbuild/protobuf');
    const header = fromBinary(EventHeaderSchema, event.header);
    const body = fromBinary(EventBodySchema, event.body);
    const twin = await sealEvent({ ...header, hlc: header.hlc + 1n }, body, eu.key);
    const equivocation = create(SignedEventSchema, {
      header: twin.headerBytes,
      signature: twin.signature,
      body: twin.bodyBytes ?? new Uint8Array(),
    });
    expect(await codeOf(us.replica.ingest(equivocation))).toBe('data_loss');
  });

  it('refuses a published artifact whose manifest does not decode with DATA_LOSS, applying nothing', async () => {
    await sync(eu, us);
    const { sealEvent } = await import('@vitrine/events');
    const head = await eu.database.db
      .selectFrom('log_heads')
      .selectAll()
      .where('origin', '=', 'europe')
      .executeTakeFirstOrThrow();
    const before = await us.replica.versionVector();
    // No manifest at all, one cut off inside its first field, one whose chunk reference
    // does not decode (found only while the chunk list is inserted), and one whose chunk
    // list field has the wrong wire type.
    const manifests = [
      new Uint8Array(),
      new Uint8Array([0x0a, 0xff]),
      new Uint8Array([0x10, 0x01, 0x32, 0x02, 0x0a, 0xff]),
      new Uint8Array([0x30, 0x01]),
    ];
    for (const manifest of manifests) {
      const value = create(ArtifactPublishedSchema, {
        artifactId: 'bogus',
        manifest,
        manifestSignature: new Uint8Array(64),
      });
      const body = create(EventBodySchema, {
        actor: 'operator',
        change: { case: 'artifactPublished', value },
      });
      const fields = { origin: 'europe', seq: head.seq + 1n, hlc: head.hlc + 1n, residency: [] };
      const sealed = await sealEvent({ ...fields, prevDigest: head.digest }, body, eu.key);
      const event = create(SignedEventSchema, {
        header: sealed.headerBytes,
        signature: sealed.signature,
        body: sealed.bodyBytes ?? new Uint8Array(),
      });
      const refusal = await us.replica.ingest(event).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refusal).toMatchObject({
        code: 'data_loss',
        message: expect.stringMatching(/manifest/),
      });
    }
    expect(await us.replica.versionVector()).toEqual(before);
    const bogus = await us.database.db
      .selectFrom('artifacts')
      .select('id')
      .where('id', '=', 'bogus')
      .execute();
    expect(bogus).toEqual([]);
  });

  it('sends only headers of events outside a peer’s residency; the peer refuses bodies it may not hold', async () => {
    const euOnly = (await push(eu, '2.0-eu', ['EU'])).artifact.id;
    const f = await eu.findings.create(
      'alice',
      create(CreateFindingRequestSchema, {
        artifactIds: [euOnly],
        title: 'EU only',
        description: '',
        severity: Severity.LOW,
        cvssVector: '',
      }),
    );
    const sent = await sync(eu, us);
    expect(sent).toHaveLength(2);
    expect(sent.every((e) => e.body.length === 0)).toBe(true);
    expect(await findFinding(us.database.db, f.id)).toBeUndefined();
    const held = await us.database.db
      .selectFrom('artifacts')
      .select('id')
      .where('id', '=', euOnly)
      .execute();
    expect(held).toEqual([]);
    expect((await us.replica.versionVector()).get('europe')).toBe(9n);

    // A body the sender should have withheld is refused, and a body owed is demanded.
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: f.id, text: 'secret' }),
    );
    const [withBody] = await collect(eu, await us.replica.versionVector(), {
      id: 'x',
      jurisdiction: 'EU',
    });
    expect(await codeOf(us.replica.ingest(withBody as SignedEvent))).toBe('permission_denied');
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'public' }),
    );
    const [, owed] = await collect(eu, await us.replica.versionVector());
    const stripped = create(SignedEventSchema, {
      ...(owed as SignedEvent),
      body: new Uint8Array(),
    });
    await us.replica.ingest(withheld(withBody as SignedEvent));
    // A body this center may hold, sent without it, is awaited; a copy with it fills it in.
    expect(await us.replica.ingest(stripped)).toBe('body-pending');
    expect(await us.replica.unapplied()).toEqual({ awaiting: 1n, heldBack: 0n });
    expect(await us.replica.ingest(owed as SignedEvent)).toBe('body-filled');
    expect(await us.replica.unapplied()).toEqual({ awaiting: 0n, heldBack: 0n });
    const public_ = await findFinding(us.database.db, 'europe-1');
    expect(public_?.comment_count).toBeGreaterThan(0);
  });

  it('awaits a body a peer outside the residency could not send, holding later events back until it comes', async () => {
    await sync(eu, us);
    const euUs = (await push(eu, '3.0-eu-us', ['EU', 'US'])).artifact.id;
    const f = await eu.findings.create(
      'alice',
      create(CreateFindingRequestSchema, {
        artifactIds: [euUs],
        title: 'EU and US',
        description: '',
        severity: Severity.MEDIUM,
        cvssVector: '',
      }),
    );
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: f.id, text: 'a' }),
    );
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'unrestricted, later' }),
    );
    const vector = await us.replica.versionVector();
    // What a center in APAC forwards: the three EU,US events as headers, the last one whole.
    const viaAsia = await collect(eu, vector, { id: 'asia', jurisdiction: 'APAC' });
    expect(viaAsia.map((e) => e.body.length > 0)).toEqual([false, false, false, true]);
    expect((await us.replica.ingestAll(viaAsia)).outcomes).toEqual([
      'body-pending',
      'body-pending',
      'body-pending',
      'applied',
    ]);
    const from = (vector.get('europe') ?? 0n) + 1n;
    const refs = [0n, 1n, 2n].map((i) => ({ origin: 'europe', seq: from + i }));
    expect(await us.replica.pendingBodies(10)).toEqual(
      refs.map((r) => ({ ...r, residency: ['EU', 'US'] })),
    );
    // Nothing after the first awaited body is applied: the unrestricted comment waits too.
    expect(await us.replica.unapplied()).toEqual({ awaiting: 3n, heldBack: 1n });
    const before = await findFinding(us.database.db, 'europe-1');
    // us passes the headers on; it cannot pass on bodies it does not hold.
    const passedOn = await collect(us, vector, { id: 'x', jurisdiction: 'EU' });
    expect(passedOn.slice(0, 3).every((e) => e.body.length === 0)).toBe(true);

    // The origin serves the bodies to a center that may hold them, and to no other.
    const bodies: SignedEvent[] = [];
    for await (const e of eu.replica.bodiesFor({ id: 'us', jurisdiction: 'US' }, refs)) {
      bodies.push(e);
    }
    expect(bodies.map((e) => e.body.length > 0)).toEqual([true, true, true]);
    const denied = (async () => {
      for await (const _ of eu.replica.bodiesFor({ id: 'asia', jurisdiction: 'APAC' }, refs)) {
      }
    })();
    expect(await codeOf(denied)).toBe('permission_denied');
    const [published, created, commented] = bodies as [SignedEvent, SignedEvent, SignedEvent];

    // A body that does not match its signed header is refused; the event stays awaited.
    const forged = published.body.slice();
    forged[forged.length - 1] ^= 1;
    const bad = create(SignedEventSchema, { ...published, body: forged });
    expect(await codeOf(us.replica.ingest(bad))).toBe('data_loss');
    // Bodies arriving out of order wait for the earlier ones: state follows the log's order.
    expect(await us.replica.ingest(created)).toBe('body-filled');
    expect(await findFinding(us.database.db, f.id)).toBeUndefined();
    expect(await us.replica.unapplied()).toEqual({ awaiting: 2n, heldBack: 2n });
    expect(await us.replica.ingestAll([published, commented, created])).toEqual({
      outcomes: ['body-filled', 'body-filled', 'duplicate'],
    });
    expect(await us.replica.unapplied()).toEqual({ awaiting: 0n, heldBack: 0n });
    expect(await findFinding(us.database.db, f.id)).toEqual(
      await findFinding(eu.database.db, f.id),
    );
    const after = await findFinding(us.database.db, 'europe-1');
    expect(after?.comment_count).toBe((before?.comment_count ?? 0) + 1);
    const artifact = await us.database.db
      .selectFrom('artifacts')
      .select('id')
      .where('id', '=', euUs)
      .execute();
    expect(artifact).toEqual([{ id: euUs }]);
  });

  it('streams new events live, and moves the receiver’s clock past what it saw', async () => {
    await sync(eu, us);
    const stop = new AbortController();
    const feed = eu.replica.feed(us, await us.replica.versionVector(), stop.signal);
    const arrived = (async () => {
      for await (const event of feed) {
        await us.replica.ingest(event);
        stop.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'live' }),
    );
    await arrived;
    const last = await eu.database.db
      .selectFrom('log_heads')
      .select('hlc')
      .where('origin', '=', 'europe')
      .executeTakeFirstOrThrow();
    const mine = await us.database.db
      .selectFrom('log_heads')
      .select('hlc')
      .where('origin', '=', 'us')
      .executeTakeFirstOrThrow();
    expect(mine.hlc).toBeGreaterThanOrEqual(last.hlc);
  });

  it('sends a peer its own events only where it lacks them, never its new ones back', async () => {
    const { fromBinary } = await import('@bufbuild/protobuf');
    const { EventHeaderSchema } = await import('@vitrine/proto/event');
    const positions = (events: SignedEvent[]) =>
      events.map((e) => {
        const { origin, seq } = fromBinary(EventHeaderSchema, e.header);
        return `${origin}/${seq}`;
      });
    await sync(eu, us);
    const comment = (c: Center, text: string) =>
      c.findings.comment('carol', create(AddCommentRequestSchema, { findingId: 'europe-1', text }));
    await comment(us, 'from us');
    await sync(us, eu);
    const vector = await us.replica.versionVector();
    const usHead = vector.get('us') ?? 0n;
    // A us restored from a backup that lacks its last event gets it back from europe.
    const restored = await collect(eu, new Map([...vector, ['us', usHead - 1n]]));
    expect(positions(restored)).toEqual([`us/${usHead}`]);
    // Live, us's new events reach europe and are not sent back; europe's own are.
    const stop = new AbortController();
    const live: SignedEvent[] = [];
    const following = (async () => {
      for await (const e of eu.replica.feed(us, vector, stop.signal)) live.push(e);
    })();
    await new Promise((r) => setTimeout(r, 50));
    await comment(us, 'again from us');
    await sync(us, eu);
    await comment(eu, 'from europe');
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await following;
    const europeHead = (await eu.replica.versionVector()).get('europe');
    expect(positions(live)).toEqual([`europe/${europeHead}`]);
  });

  it('starts a feed at the first event the peer lacks of each origin, however they interleave', async () => {
    const { fromBinary } = await import('@bufbuild/protobuf');
    const { EventHeaderSchema } = await import('@vitrine/proto/event');
    const positions = (events: SignedEvent[]) =>
      events.map((e) => {
        const { origin, seq } = fromBinary(EventHeaderSchema, e.header);
        return `${origin}/${seq}`;
      });
    const comment = (c: Center, text: string) =>
      c.findings.comment('carol', create(AddCommentRequestSchema, { findingId: 'europe-1', text }));
    await sync(eu, us);
    await comment(us, 'us, first');
    await sync(us, eu);
    await comment(eu, 'europe, after it');
    await comment(eu, 'europe, last');
    const heads = await eu.replica.versionVector();
    const [e, u] = [heads.get('europe') ?? 0n, heads.get('us') ?? 0n];
    // us's event is stored at europe before europe's two: each origin's lack counts.
    const both = await collect(eu, new Map([...heads, ['europe', e - 2n], ['us', u - 1n]]));
    expect(positions(both)).toEqual([`us/${u}`, `europe/${e - 1n}`, `europe/${e}`]);
    const europeOnly = await collect(eu, new Map([...heads, ['europe', e - 1n]]));
    expect(positions(europeOnly)).toEqual([`europe/${e}`]);
    const fromNothing = await collect(eu, new Map());
    expect(fromNothing.length).toBe(Number(e + u));
    expect(await collect(eu, heads)).toEqual([]);
  });

  it('takes a batch at once, keeping the events before a refused one', async () => {
    await sync(eu, us);
    const made: string[] = [];
    for (const title of ['batch one', 'batch two']) {
      const request = { artifactIds: [source], title, severity: Severity.LOW };
      made.push(
        (await eu.findings.create('alice', create(CreateFindingRequestSchema, request))).id,
      );
    }
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'b3' }),
    );
    const [a, b, c] = (await collect(eu, await us.replica.versionVector())) as SignedEvent[];
    const held = (await us.replica.versionVector()).get('europe') ?? 0n;
    // The last event of a run has its own signature checked...
    const forged = create(SignedEventSchema, { ...b, signature: b.signature.map((x) => x ^ 1) });
    const refused = await us.replica.ingestAll([a, forged]);
    expect(refused.outcomes).toEqual(['applied']);
    expect(await codeOf(Promise.reject(refused.refusal))).toBe('data_loss');
    expect((await us.replica.versionVector()).get('europe')).toBe(held + 1n);
    // ...and one before it, vouched for by the chain, no longer links once altered.
    const header = b.header.slice();
    header[header.length - 1] ^= 1;
    const altered = await us.replica.ingestAll([create(SignedEventSchema, { ...b, header }), c]);
    expect(altered.outcomes).toEqual([]);
    expect(await codeOf(Promise.reject(altered.refusal))).toBe('data_loss');
    expect((await us.replica.versionVector()).get('europe')).toBe(held + 1n);
    const rest = await us.replica.ingestAll([a, b, c]);
    expect(rest).toEqual({ outcomes: ['duplicate', 'applied', 'applied'] });
    expect((await us.replica.versionVector()).get('europe')).toBe(held + 3n);
    for (const id of made) {
      expect(await findFinding(us.database.db, id)).toEqual(await findFinding(eu.database.db, id));
      const clocks = (db: Center['database']['db']) =>
        db
          .selectFrom('finding_field_versions')
          .selectAll()
          .where('finding_id', '=', id)
          .orderBy('field')
          .execute();
      expect(await clocks(us.database.db)).toEqual(await clocks(eu.database.db));
    }
  });

  it('takes a copy of an event it took unopened, and still refuses one with another body', async () => {
    await sync(eu, us);
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'copied' }),
    );
    const [event] = (await collect(eu, await us.replica.versionVector())) as SignedEvent[];
    if (!event) throw new Error('no event to copy');
    expect(await us.replica.ingest(event)).toBe('applied');
    expect(await us.replica.ingestAll([event, event])).toEqual({
      outcomes: ['duplicate', 'duplicate'],
    });
    const body = event.body.slice();
    body[body.length - 1] ^= 1;
    const otherBody = create(SignedEventSchema, { ...event, body });
    expect(await codeOf(us.replica.ingest(otherBody))).toBe('data_loss');
    // A copy without its body (a peer outside its residency forwards it so) adds nothing.
    const noBody = create(SignedEventSchema, { ...event, body: new Uint8Array() });
    expect(await us.replica.ingest(noBody)).toBe('duplicate');
    // The report ends at the refused event, whatever copies stand around it.
    const report = await us.replica.ingestAll([event, otherBody, event]);
    expect(report.outcomes).toEqual(['duplicate']);
    expect(await codeOf(Promise.reject(report.refusal))).toBe('data_loss');
  });

  it('takes a batch one event at a time when applying one fails, keeping those before it', async () => {
    await sync(eu, us);
    await eu.findings.comment(
      'bob',
      create(AddCommentRequestSchema, { findingId: 'europe-1', text: 'c1' }),
    );
    const [valid] = (await collect(eu, await us.replica.versionVector())) as SignedEvent[];
    const { sealEvent } = await import('@vitrine/events');
    const { EventHeaderSchema, EventBodySchema } = await import('@vitrine/proto/event');
    const { FindingUpdatedSchema } = await import('@vitrine/proto/finding');
    const { fromBinary } = await import('@bufbuild/protobuf');
    const header = fromBinary(EventHeaderSchema, valid.header);
    // Signed by europe, next in its chain, but updating a finding no center knows.
    const orphan = await sealEvent(
      { ...header, seq: header.seq + 1n, hlc: header.hlc + 1n, prevDigest: await digestOf(valid) },
      create(EventBodySchema, {
        actor: 'bob',
        change: {
          case: 'findingUpdated',
          value: create(FindingUpdatedSchema, { findingId: 'europe-999', title: 'never' }),
        },
      }),
      eu.key,
    );
    const held = (await us.replica.versionVector()).get('europe') ?? 0n;
    const report = await us.replica.ingestAll([
      valid,
      create(SignedEventSchema, {
        header: orphan.headerBytes,
        signature: orphan.signature,
        body: orphan.bodyBytes ?? new Uint8Array(),
      }),
    ]);
    expect(report.outcomes).toEqual(['applied']);
    expect(await codeOf(Promise.reject(report.refusal))).toBe('failed_precondition');
    expect((await us.replica.versionVector()).get('europe')).toBe(held + 1n);
  });
});

async function digestOf(event: SignedEvent): Promise<Uint8Array> {
  const { sha256 } = await import('@vitrine/crypto');
  return sha256(event.header);
}

/** The events `from` would send a peer with `vector` right now. */
function collect(
  from: Center,
  vector: Map<string, bigint>,
  peer: { id: string; jurisdiction: string } = { id: 'us', jurisdiction: 'US' },
): Promise<SignedEvent[]> {
  return drainFeed(from, peer, vector);
}

function withheld(event: SignedEvent): SignedEvent {
  return create(SignedEventSchema, { ...event, body: new Uint8Array() });
}

describe.each(testBackends())('concurrent edits on $name', (backend) => {
  it('converge to the same state, the replaced value kept in history as a conflict', async () => {
    const keys = new Map<string, Uint8Array>();
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const open = async (id: string, jurisdiction: string) => {
        const center = await openTestCenter(backend, id, jurisdiction, keys);
        cleanups.push(center.cleanup);
        return { ...center, db: center.database.db };
      };
      const eu = await open('europe', 'EU');
      const us = await open('us', 'US');
      const exchange = async (from: typeof eu, to: typeof eu) => {
        await drainFeed(from, to, await to.replica.versionVector(), (e) => to.replica.ingest(e));
      };
      async function* requests() {
        const meta = { kind: ArtifactKind.UPDATE, product: 'agent', version: '1', residency: [] };
        for await (const m of uploadOf(meta, randomContent(3000)))
          yield create(PushArtifactRequestSchema, m);
      }
      const artifact = await eu.artifacts.push('op', requests(), new AbortController().signal);
      const f = await eu.findings.create(
        'op',
        create(CreateFindingRequestSchema, {
          artifactIds: [artifact.artifact.id],
          title: 'original',
          description: '',
          severity: Severity.LOW,
          cvssVector: '',
        }),
      );
      await exchange(eu, us);
      // Both centers retitle the finding without having seen each other's change.
      await eu.findings.update(
        'alice',
        create(UpdateFindingRequestSchema, { id: f.id, title: 'from europe' }),
      );
      await us.findings.update(
        'bob',
        create(UpdateFindingRequestSchema, { id: f.id, title: 'from us' }),
      );
      await exchange(eu, us);
      await exchange(us, eu);
      const [atEu, atUs] = await Promise.all([findFinding(eu.db, f.id), findFinding(us.db, f.id)]);
      expect(atEu).toEqual(atUs);
      const history = (db: typeof eu.db) =>
        db
          .selectFrom('finding_history')
          .selectAll()
          .where('finding_id', '=', f.id)
          .orderBy('hlc')
          .execute();
      const [hEu, hUs] = await Promise.all([history(eu.db), history(us.db)]);
      expect(hEu).toEqual(hUs);
      const flagged = hEu.filter((h) => h.overwritten_fields.includes('title'));
      expect(flagged).toHaveLength(1);
      const loser = flagged[0]?.origin === 'europe' ? 'from europe' : 'from us';
      expect(atEu?.title).not.toBe(loser);
      expect(await eu.replica.stateDigest()).toBe(await us.replica.stateDigest());

      // A later edit that saw the winner settles it: nothing new is flagged.
      await us.findings.update(
        'bob',
        create(UpdateFindingRequestSchema, { id: f.id, title: 'agreed' }),
      );
      await exchange(us, eu);
      const after = await history(eu.db);
      expect(after.filter((h) => h.overwritten_fields.includes('title'))).toHaveLength(1);
      expect((await findFinding(eu.db, f.id))?.title).toBe('agreed');
    } finally {
      for (const cleanup of cleanups) await cleanup();
    }
  });
});
