import { generateSigningKeyPair } from '@vitrine/crypto';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { testBackends } from '@vitrine/testing';
import {
  formatAddCheckpoint,
  MAX_ADD_CHECKPOINT_BYTES,
  noteSigner,
  openNote,
  parseNote,
  signNote,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownLogs, witnessKey } from '../src/index.js';
import { CheckpointPublisher } from '../src/transparency/checkpoint-publisher.js';
import { startTestRegistry, type TestRegistry } from './harness.js';
import { accessRecord, openTestCenter, type TestCenter } from './test-center.js';

const FEDERATION = 'vitrine-test';

describe.each(testBackends())('the witness over HTTP on $name', (backend) => {
  let eu: TestCenter;
  let publisher: CheckpointPublisher;
  let us: TestRegistry;
  let appended = 0;

  const post = (body: string | Uint8Array, init: RequestInit = {}) =>
    fetch(`${us.registry.url}/log/add-checkpoint`, { method: 'POST', body, ...init });

  async function grow(count: number) {
    const entries = Array.from({ length: count }, () => accessRecord(appended++));
    await eu.log.transact(eu.database.db, (tx) => eu.log.appendAll(tx, entries));
    return publisher.publish();
  }

  beforeAll(async () => {
    eu = await openTestCenter(backend, 'europe', 'EU', new Map());
    publisher = new CheckpointPublisher({
      db: eu.database.db,
      center: 'europe',
      signer: noteSigner(`${FEDERATION}/europe`, eu.key),
      changes: eu.log.changes,
      intervalMs: 1000,
      onError: (err) => {
        throw err;
      },
    });
    const logs = knownLogs(FEDERATION, [{ id: 'europe', signingKey: eu.key.publicKey }]);
    us = await startTestRegistry(
      backend,
      { federation: FEDERATION },
      { center: { id: 'us', jurisdiction: 'US' }, knownLogs: logs },
    );
  });
  afterAll(async () => {
    await us?.cleanup();
    await eu?.cleanup();
  });

  it('answers 200 with a cosignature/v1 line by the center’s witness key', async () => {
    const checkpoint = await grow(2);
    const res = await post(formatAddCheckpoint({ oldSize: 0, proof: [], note: checkpoint.note }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = await res.text();
    expect(lines).toMatch(/^— vitrine-test\/us\/witness [A-Za-z0-9+/=]+\n$/);
    const key = witnessKey(FEDERATION, 'us', us.registry.publicKey);
    const opened = await openNote(checkpoint.note + lines, [key]);
    expect(opened.verified[0]?.timestamp).toBeGreaterThan(1_700_000_000);
  });

  it('answers 409 with its size as text/x.tlog.size when the old size is stale', async () => {
    const checkpoint = await grow(3);
    const res = await post(formatAddCheckpoint({ oldSize: 0, proof: [], note: checkpoint.note }));
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await res.text()).toBe('2\n');
    const proof = await publisher.prove(2, 5);
    const ok = await post(formatAddCheckpoint({ oldSize: 2, proof, note: checkpoint.note }));
    expect(ok.status).toBe(200);
  });

  it('answers each bad request with its status, stores nothing, and stays up', async () => {
    const latest = await publisher.latest();
    const note = latest?.note ?? '';
    const next = await grow(1);
    const proof = await publisher.prove(5, 6);
    const stranger = noteSigner('elsewhere.example/log', eu.key);
    const unknownLog = await signNote(`elsewhere.example/log\n1\n${'A'.repeat(43)}=\n`, [stranger]);
    const impostor = noteSigner(`${FEDERATION}/europe`, await generateSigningKeyPair());
    const forged = await signNote(parseNote(next.note).text, [impostor]);
    const cases: [string, RequestInit & { body: string | Uint8Array }, number][] = [
      ['malformed', { body: 'old zero\n\n' }, 400],
      [
        'future old size',
        { body: formatAddCheckpoint({ oldSize: 9, proof, note: next.note }) },
        400,
      ],
      ['unknown log', { body: `old 0\n\n${unknownLog}` }, 404],
      ['bad signature', { body: formatAddCheckpoint({ oldSize: 5, proof, note: forged }) }, 403],
      [
        'bad proof',
        { body: formatAddCheckpoint({ oldSize: 5, proof: [new Uint8Array(32)], note: next.note }) },
        422,
      ],
      ['oversized', { body: `old 5\n\n${note}${'x'.repeat(MAX_ADD_CHECKPOINT_BYTES)}` }, 413],
      ['a GET', { method: 'GET', body: '' }, 405],
    ];
    for (const [what, init, status] of cases) {
      const { body, ...rest } = init;
      const res = await (rest.method === 'GET'
        ? fetch(`${us.registry.url}/log/add-checkpoint`)
        : post(body, rest));
      expect([what, res.status]).toEqual([what, status]);
      await res.text();
    }
    const stale = await post(formatAddCheckpoint({ oldSize: 0, proof: [], note: next.note }));
    expect(await stale.text()).toBe('5\n');
    const ok = await post(formatAddCheckpoint({ oldSize: 5, proof, note: next.note }));
    expect(ok.status).toBe(200);
  });

  it('answers 413 to an oversized body sent without a length, as it arrives', async () => {
    const chunk = new TextEncoder().encode(`old 5\n${'A'.repeat(16 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${us.registry.url}/log/add-checkpoint`, {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.text()).toMatch(/at most \d+ bytes/);
    const still = await post(formatAddCheckpoint({ oldSize: 0, proof: [], note: 'x' }));
    expect(still.status).toBe(400);
  });

  it('serves its own checkpoint with the quorum beside it, not final without cosignatures', async () => {
    const client = createGrpcClient(LogService, us.registry.url);
    const res = await client.getCheckpoint({});
    expect(res).toMatchObject({ cosigners: [], cosignatureCount: 0, quorum: 1, final: false });
  });
});
