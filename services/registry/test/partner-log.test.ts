import { fromBinary } from '@bufbuild/protobuf';
import { type Client, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { callAuthInterceptor } from '@vitrine/credentials';
import { sha256 } from '@vitrine/crypto';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { type EventBody, EventBodySchema, EventHeaderSchema } from '@vitrine/proto/event';
import { Severity } from '@vitrine/proto/finding';
import { LogService } from '@vitrine/proto/log';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { hashLeaf, noteKey, openNote, parseCheckpoint, verifyInclusion } from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLeaf } from '../src/transparency/log-leaf.js';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

type LogClient = Client<typeof LogService>;

/** What a listed event is about: its change and the id it names. */
function aboutOf(body: EventBody): string {
  const change = body.change;
  switch (change.case) {
    case 'artifactPublished':
      return `artifact ${change.value.artifactId}`;
    case 'findingCreated':
    case 'findingUpdated':
    case 'commentAdded':
      return `${change.case} ${change.value.findingId}`;
    case 'accessUsed': {
      const use = change.value;
      const method = use.method.split('/').pop();
      return `access ${use.principal} ${method} ${use.artifactId || use.findingId} ${use.refusalCode}`;
    }
    default:
      return 'unknown';
  }
}

async function listAll(client: LogClient, limit: number, afterSeq = 0n) {
  const events = [];
  for await (const res of client.listEvents({ afterSeq, limit })) {
    if (res.event) events.push(res.event);
  }
  return events;
}

/**
 * ListEvents and GetReceipt answer by the caller's credential: a partner sees the events
 * about what its scope covers and the records of its own calls, each as signed; everything
 * else is absent, in counts and pages too.
 */
describe.each(testBackends())('events and receipts by credential, on $name', (backend) => {
  let t: TestRegistry;
  let operator: LogClient;
  let acme: LogClient;
  let other: LogClient;
  let acmePrincipal = '';
  const registries = new Map<string, Client<typeof RegistryService>>();
  let visible = '';
  let hidden = '';
  let visibleFinding = '';
  let hiddenFinding = '';
  const key = () => noteKey('vitrine-test/europe', t.registry.publicKey);

  beforeAll(async () => {
    t = await startTestRegistry(backend, {
      federation: 'vitrine-test',
      log: { checkpointIntervalMs: 20 },
    });
    const push = async (product: string) => {
      const metadata = { kind: ArtifactKind.SOURCE, product, version: '1', residency: ['EU'] };
      const { artifact } = await t.client.pushArtifact(uploadOf(metadata, randomContent(3_000)));
      return artifact?.id ?? '';
    };
    visible = await push('agent');
    hidden = await push('router');
    const create = async (artifactId: string) =>
      (
        await t.client.createFinding({
          artifactIds: [artifactId],
          title: 'x',
          severity: Severity.LOW,
        })
      ).finding?.id ?? '';
    visibleFinding = await create(visible);
    hiddenFinding = await create(hidden);
    await t.client.addComment({ findingId: hiddenFinding, text: 'only for router reviewers' });
    const partner = async (id: string, scope: { products: string[] }) => {
      const caller = await t.trust.partner({
        partner: id,
        jurisdiction: 'EU',
        audience: ['europe'],
        scope: { ...scope, actions: ['read', 'comment'] },
      });
      const interceptors = [callAuthInterceptor(() => caller, 'europe')];
      registries.set(id, createGrpcClient(RegistryService, t.registry.url, { interceptors }));
      return createGrpcClient(LogService, t.registry.url, { interceptors });
    };
    acme = await partner('acme', { products: ['agent'] });
    other = await partner('other', { products: ['router'] });
    acmePrincipal = 'partner:acme';
    operator = createGrpcClient(LogService, t.registry.url, {
      interceptors: [t.trust.operatorAuth('europe')],
    });
  });
  afterAll(() => t.cleanup());

  it('lists a partner only the events its credential covers, each as signed', async () => {
    await listAll(other, 10); // another partner's calls: recorded, never shown to acme
    // acme's own calls: one allowed, two refused as not found (the hidden ones).
    const registry = registries.get('acme') as Client<typeof RegistryService>;
    await registry.getArtifact({ id: visible });
    expect(await grpcCodeOf(registry.getArtifact({ id: hidden }))).toBe('NOT_FOUND');
    expect(await grpcCodeOf(registry.addComment({ findingId: hiddenFinding, text: 'x' }))).toBe(
      'NOT_FOUND',
    );
    const events = await listAll(acme, 1000);
    const about = events.map((e) => aboutOf(fromBinary(EventBodySchema, e.body)));
    expect(about.slice(0, 2)).toEqual([`artifact ${visible}`, `findingCreated ${visibleFinding}`]);
    expect(about.slice(2).every((a) => a.startsWith(`access ${acmePrincipal} `))).toBe(true);
    expect(about).toContain(`access ${acmePrincipal} GetArtifact ${visible} 0`);
    expect(about.join('\n')).not.toContain(hidden);
    expect(about.join('\n')).not.toContain(hiddenFinding);
    expect(about.join('\n')).not.toContain('partner:other');
    for (const event of events) {
      const header = fromBinary(EventHeaderSchema, event.header);
      expect(header.bodyDigest).toEqual(sha256(event.body));
    }
    // The operator sees every event; acme's are the same bytes, a subset in the same order.
    const all = await listAll(operator, 1000);
    const seqs = all.map((e) => fromBinary(EventHeaderSchema, e.header).seq);
    expect(seqs).toEqual(seqs.map((_, i) => BigInt(i + 1)));
    const allHeaders = all.map((e) => Buffer.from(e.header).toString('hex'));
    const positions = events.map((e) => allHeaders.indexOf(Buffer.from(e.header).toString('hex')));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] ?? 0)))).toBe(
      true,
    );
    expect(all.length).toBeGreaterThan(events.length + 3);
    // The records of acme's hidden refusals exist, for operators: they name what was hidden.
    const allAbout = all.map((e) => aboutOf(fromBinary(EventBodySchema, e.body)));
    expect(allAbout).toContain(`access ${acmePrincipal} GetArtifact ${hidden} 5`);
    expect(allAbout).toContain(`access ${acmePrincipal} AddComment ${hidden} 5`);
  });

  it('pages by sequence without revealing what it skipped', async () => {
    const whole = await listAll(acme, 1000);
    // Each listing call adds one of acme's own records at the end: page through as many
    // events as the whole listing held, one a page.
    const paged = [];
    let after = 0n;
    for (let i = 0; i < whole.length; i++) {
      const page = await listAll(acme, 1, after);
      expect(page).toHaveLength(1);
      paged.push(page[0]);
      after = fromBinary(EventHeaderSchema, page[0]?.header ?? new Uint8Array()).seq;
    }
    const headers = (list: typeof whole) =>
      list.map((e) => Buffer.from(e?.header ?? []).toString('hex'));
    expect(headers(paged)).toEqual(headers(whole));
  });

  it('refuses a listing without a credential, or asking for too many', async () => {
    const anonymous = createGrpcClient(LogService, t.registry.url);
    expect(await grpcCodeOf(listAll(anonymous, 10))).toBe('UNAUTHENTICATED');
    expect(await grpcCodeOf(listAll(acme, 10_001))).toBe('INVALID_ARGUMENT');
  });

  it('serves a receipt for a covered event that verifies against the center key', async () => {
    await waitForCheckpoint(t, 4);
    for (const subject of [
      { case: 'artifactId' as const, value: visible },
      { case: 'findingId' as const, value: visibleFinding },
    ]) {
      const receipt = await acme.getReceipt({ subject });
      const opened = await openNote(receipt.checkpoint, [key()]);
      const checkpoint = parseCheckpoint(opened.text);
      expect(checkpoint.size).toBe(Number(receipt.treeSize));
      const event = receipt.event;
      if (!event) throw new Error('no event');
      const header = fromBinary(EventHeaderSchema, event.header);
      expect(header.seq).toBe(receipt.seq);
      expect(sha256(event.body)).toEqual(header.bodyDigest);
      const index = Number(receipt.seq) - 1;
      const leaf = logLeaf(event.header, event.signature);
      verifyInclusion(hashLeaf(leaf), index, checkpoint.size, receipt.proof, checkpoint.root);
    }
  });

  it('answers a receipt outside the scope exactly as one for a missing event', async () => {
    const answer = async (call: Promise<unknown>, id: string) => {
      const code = await grpcCodeOf(call);
      const message = await call.catch((e: Error) => e.message.replaceAll(id, '<id>'));
      return { code, message };
    };
    const missing = 'e'.repeat(64);
    expect(
      await answer(acme.getReceipt({ subject: { case: 'artifactId', value: hidden } }), hidden),
    ).toEqual(
      await answer(acme.getReceipt({ subject: { case: 'artifactId', value: missing } }), missing),
    );
    const hiddenCall = acme.getReceipt({ subject: { case: 'findingId', value: hiddenFinding } });
    expect(await answer(hiddenCall, hiddenFinding)).toEqual(
      await answer(
        acme.getReceipt({ subject: { case: 'findingId', value: 'europe-999' } }),
        'europe-999',
      ),
    );
    // By sequence: the hidden artifact's publication (seq 2) answers as an event never made.
    const bySeq = (seq: bigint) =>
      acme.getReceipt({ subject: { case: 'event', value: { origin: '', seq } } });
    expect(await answer(bySeq(2n), 'europe/2')).toEqual(
      await answer(bySeq(1_000_000n), 'europe/1000000'),
    );
    expect(await grpcCodeOf(bySeq(0n))).toBe('INVALID_ARGUMENT');
    expect(await grpcCodeOf(acme.getReceipt({}))).toBe('INVALID_ARGUMENT');
    // The operator gets it.
    expect(
      (await operator.getReceipt({ subject: { case: 'artifactId', value: hidden } })).seq,
    ).toBe(2n);
  });
});

async function waitForCheckpoint(t: TestRegistry, size: number): Promise<void> {
  const client = createClient(LogService, createGrpcTransport({ baseUrl: t.registry.url }));
  for (let i = 0; i < 500; i++) {
    const res = await client.getCheckpoint({});
    if (res.treeSize >= BigInt(size)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no checkpoint of ${size} signed`);
}

describe.each(testBackends())(
  'a receipt before a checkpoint covers the event, on $name',
  (backend) => {
    let t: TestRegistry;
    beforeAll(async () => {
      // The first checkpoint after the empty log's comes a minute after start.
      t = await startTestRegistry(backend, { log: { checkpointIntervalMs: 60_000 } });
    });
    afterAll(() => t.cleanup());

    it('is UNAVAILABLE, saying to ask again, until a checkpoint covers it', async () => {
      const metadata = { kind: ArtifactKind.SOURCE, product: 'agent', version: '1' };
      const { artifact } = await t.client.pushArtifact(uploadOf(metadata, randomContent(1_000)));
      const operator = createGrpcClient(LogService, t.registry.url, {
        interceptors: [t.trust.operatorAuth('europe')],
      });
      const call = operator.getReceipt({
        subject: { case: 'artifactId', value: artifact?.id ?? '' },
      });
      expect(await grpcCodeOf(call)).toBe('UNAVAILABLE');
      await expect(call).rejects.toThrow(/no checkpoint of europe's log covering its event 1/);
    });
  },
);
