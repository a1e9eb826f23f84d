import { join } from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { type Client, ConnectError } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { generateSigningKeyPair, readKeyFile } from '@vitrine/crypto';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import {
  FindingChangeKind,
  RegistryService,
  type WatchFindingsRequestSchema,
  type WatchFindingsResponse,
} from '@vitrine/proto/registry';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchPositions } from '../src/watch-position.js';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

type Registry = Client<typeof RegistryService>;

/**
 * A live watch over a real socket: `next(n)` takes the next `n` changes (heartbeats only
 * move `position`), `close()` disconnects as a client would.
 */
class Watch {
  readonly #stop = new AbortController();
  readonly #messages: AsyncIterator<WatchFindingsResponse>;
  position = '';
  heartbeats = 0;
  /** Changes taken while waiting for a heartbeat. */
  passed = 0;

  constructor(client: Registry, req: MessageInitShape<typeof WatchFindingsRequestSchema>) {
    const stream = client.watchFindings(req, { signal: this.#stop.signal });
    this.#messages = stream[Symbol.asyncIterator]();
  }

  /** Waits for a heartbeat: from then on the watch is live, so later changes reach it. */
  async live(): Promise<this> {
    const first = this.heartbeats;
    while (this.heartbeats === first) await this.#take();
    return this;
  }

  async next(n: number): Promise<WatchFindingsResponse[]> {
    const got: WatchFindingsResponse[] = [];
    while (got.length < n) {
      const message = await this.#take();
      if (message.change) got.push(message);
    }
    return got;
  }

  close(): void {
    this.#stop.abort();
  }

  async #take(): Promise<WatchFindingsResponse> {
    const { value, done } = await this.#messages.next();
    if (done) throw new Error('watch ended');
    this.position = value.position;
    if (!value.change) this.heartbeats += 1;
    else this.passed += 1;
    return value;
  }
}

/** `origin/seq kind finding-id` of each change: what the assertions compare. */
const described = (messages: readonly WatchFindingsResponse[]) =>
  messages.map(
    ({ change: c }) =>
      `${c?.origin}/${c?.seq} ${FindingChangeKind[c?.kind ?? 0]} ${c?.finding?.id}`,
  );

describe.each(testBackends())('WatchFindings on $name', (backend) => {
  let t: TestRegistry;
  let agent = '';
  let agentUpdate = '';
  let router = '';

  beforeAll(async () => {
    t = await startTestRegistry(backend, {}, { watchHeartbeatMs: 150 });
    const push = async (kind: ArtifactKind, product: string) => {
      const metadata = { kind, product, version: '1', residency: ['EU'] };
      const { artifact } = await t.client.pushArtifact(uploadOf(metadata, randomContent(2_000)));
      return artifact?.id ?? '';
    };
    agent = await push(ArtifactKind.SOURCE, 'agent');
    agentUpdate = await push(ArtifactKind.UPDATE, 'agent');
    router = await push(ArtifactKind.SOURCE, 'router');
  });
  afterAll(() => t.cleanup());

  const create = async (artifactId: string, severity = Severity.HIGH) => {
    const req = { artifactIds: [artifactId], title: 'Weak cipher', severity };
    return (await t.client.createFinding(req)).finding?.id ?? '';
  };

  it('streams each change as it commits: the finding, its event, what it did', async () => {
    const watch = await new Watch(t.client, {}).live();
    const id = await create(agent);
    await t.client.updateFinding({ id, status: FindingStatus.TRIAGED });
    await t.client.addComment({ findingId: id, text: 'seen in 2.1 too' });
    const got = await watch.next(3);
    watch.close();
    expect(got.map((m) => FindingChangeKind[m.change?.kind ?? 0])).toEqual([
      'CREATED',
      'UPDATED',
      'COMMENTED',
    ]);
    expect(got.map((m) => m.change?.finding?.id)).toEqual([id, id, id]);
    expect(got.map((m) => m.change?.origin)).toEqual(['europe', 'europe', 'europe']);
    const seqs = got.map((m) => m.change?.seq ?? 0n);
    expect(seqs[1]).toBe((seqs[0] ?? 0n) + 1n);
    expect(got[2]?.change?.finding?.status).toBe(FindingStatus.TRIAGED);
    expect(got[2]?.change?.finding?.commentCount).toBe(1);
    // Opaque, fresh tokens: they tell nothing of how many changes lie between them.
    expect(new Set(got.map((m) => m.position)).size).toBe(3);
    for (const m of got) expect(m.position).toMatch(/^[A-Za-z0-9_-]{48}$/);
  });

  it('filters by product, status and severity', async () => {
    const byProduct = await new Watch(t.client, { product: 'router' }).live();
    const byStatus = await new Watch(t.client, { status: FindingStatus.TRIAGED }).live();
    const bySeverity = await new Watch(t.client, { severity: Severity.LOW }).live();
    const onAgent = await create(agent, Severity.LOW);
    const onRouter = await create(router, Severity.HIGH);
    await t.client.updateFinding({ id: onAgent, status: FindingStatus.TRIAGED });
    await t.client.updateFinding({ id: onRouter, severity: Severity.LOW });
    const product = described(await byProduct.next(2));
    const status = described(await byStatus.next(1));
    const severity = described(await bySeverity.next(3));
    for (const w of [byProduct, byStatus, bySeverity]) w.close();
    expect(product.map((d) => d.split(' ').slice(1))).toEqual([
      ['CREATED', onRouter],
      ['UPDATED', onRouter],
    ]);
    expect(status.map((d) => d.split(' ').slice(1))).toEqual([['UPDATED', onAgent]]);
    // Matched on the finding as each change left it.
    expect(severity.map((d) => d.split(' ').slice(1))).toEqual([
      ['CREATED', onAgent],
      ['UPDATED', onAgent],
      ['UPDATED', onRouter],
    ]);
  });

  it('resumes after the last position seen with no change missed or repeated', async () => {
    const start = await new Watch(t.client, {}).live();
    const from = start.position;
    start.close();
    const ids: string[] = [];
    // Changes keep committing while the watcher disconnects and comes back.
    const writing = (async () => {
      for (let i = 0; i < 12; i += 1) {
        const id = await create(i % 2 === 0 ? agent : agentUpdate);
        ids.push(id);
        await t.client.addComment({ findingId: id, text: `note ${i}` });
      }
    })();
    const first = new Watch(t.client, { after: from });
    const before = await first.next(7);
    first.close();
    const second = new Watch(t.client, { after: before.at(-1)?.position ?? '' });
    const after = await second.next(24 - 7);
    second.close();
    await writing;
    const whole = new Watch(t.client, { after: from });
    const all = await whole.next(24);
    whole.close();
    const expected = ids.flatMap((id) => [`CREATED ${id}`, `COMMENTED ${id}`]);
    const resumed = described([...before, ...after]);
    expect(resumed.map((d) => d.split(' ').slice(1).join(' '))).toEqual(expected);
    expect(resumed).toEqual(described(all));
  });

  it('moves the position past changes a filter hides with each heartbeat', async () => {
    const byProduct = await new Watch(t.client, { product: 'router' }).live();
    const hidden = await create(agent);
    // The second heartbeat after the hidden change committed follows a read that saw it.
    await byProduct.live();
    await byProduct.live();
    byProduct.close();
    expect(byProduct.passed).toBe(0);
    const resumed = new Watch(t.client, { after: byProduct.position });
    const shown = await create(router);
    const [first] = await resumed.next(1);
    resumed.close();
    expect(first?.change?.finding?.id).toBe(shown);
    expect(hidden).not.toBe(shown);
  });

  it('shows a partner only findings its scope covers, and not the others by any trace', async () => {
    const caller = await t.trust.partner({
      partner: 'acme',
      jurisdiction: 'EU',
      audience: ['europe'],
      scope: { products: ['agent'], actions: ['read'] },
    });
    const partner = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe')],
    });
    const watch = await new Watch(partner, {}).live();
    const hidden = await create(router);
    await t.client.addComment({ findingId: hidden, text: 'router only' });
    const shown = await create(agent);
    // Asking for the hidden product by name shows nothing either.
    const byName = await new Watch(partner, { product: 'router' }).live();
    await t.client.addComment({ findingId: hidden, text: 'router again' });
    await t.client.addComment({ findingId: shown, text: 'agent' });
    const got = described(await watch.next(2));
    // Past every change above: a heartbeat after them, and no change before it.
    await byName.live();
    byName.close();
    watch.close();
    expect(got.map((d) => d.split(' ').slice(1).join(' '))).toEqual([
      `CREATED ${shown}`,
      `COMMENTED ${shown}`,
    ]);
    expect(byName.passed).toBe(0);
  });

  it('refuses a position it did not send, or one past its last change (INVALID_ARGUMENT)', async () => {
    const first = async (req: MessageInitShape<typeof WatchFindingsRequestSchema>) => {
      for await (const message of t.client.watchFindings(req)) return message;
      return undefined;
    };
    const key = await readKeyFile(join(t.dataDir, 'keys', 'center.key'));
    if (!key) throw new Error('the registry wrote no center key');
    const other = new WatchPositions((await generateSigningKeyPair()).secretKey);
    const cases = [
      { after: 'not-a-position', says: 'not a position this center sent' },
      { after: 'A'.repeat(48), says: 'not a position this center sent' },
      { after: other.seal(1n), says: 'not a position this center sent' },
      {
        after: new WatchPositions(key.secretKey).seal(1n << 40n),
        says: 'a position past the last finding change',
      },
    ];
    for (const { after, says } of cases) {
      const err = await first({ after }).catch((e: unknown) => ConnectError.from(e));
      expect(await grpcCodeOf(first({ after }))).toBe('INVALID_ARGUMENT');
      expect((err as ConnectError).rawMessage).toContain(`after: ${says}`);
    }
    const err = ConnectError.from(await first({ product: ' x' }).catch((e: unknown) => e));
    expect(await grpcCodeOf(first({ product: ' x' }))).toBe('INVALID_ARGUMENT');
    expect(err.rawMessage).toContain('product: a product name');
  });

  it('refuses a partner whose credential allows no read (PERMISSION_DENIED)', async () => {
    const caller = await t.trust.partner({
      partner: 'commenter',
      jurisdiction: 'EU',
      audience: ['europe'],
      scope: { products: ['agent'], actions: ['comment'] },
    });
    const partner = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe')],
    });
    const call = (async () => {
      for await (const message of partner.watchFindings({})) return message;
      return undefined;
    })();
    const err = ConnectError.from(await call.catch((e: unknown) => e));
    expect(await grpcCodeOf(call)).toBe('PERMISSION_DENIED');
    expect(err.rawMessage).toContain('credential does not allow read');
  });
});
