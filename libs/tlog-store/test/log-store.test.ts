import { Code, ConnectError } from '@connectrpc/connect';
import { loadSodium } from '@vitrine/crypto';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient, createLogger, type RunningServer, startServer } from '@vitrine/rpc';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import {
  decodeEntryBundle,
  hashChildren,
  hashLeaf,
  noteKey,
  noteSigner,
  openNote,
  parseCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointPublisher,
  createLogTables,
  dropLogTables,
  LogStore,
  type LogTables,
  logProofService,
  tileHandler,
} from '../src/index.js';

const TABLES: LogTables = {
  nodes: 'demo_log_nodes',
  leaves: 'demo_log_leaves',
  heads: 'demo_log_heads',
  checkpoints: 'demo_log_checkpoints',
};

const migrations = {
  '0001-demo-log': {
    up: (db: Kysely<unknown>) => createLogTables(db, TABLES),
    down: (db: Kysely<unknown>) => dropLogTables(db, TABLES),
  },
};

/** MTH of RFC 9162 §2.1.1 over leaf hashes, from the definition. */
function rootOf(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0] as Uint8Array;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return hashChildren(rootOf(hashes.slice(0, k)), rootOf(hashes.slice(k)));
}

const leafOf = (i: number) => new TextEncoder().encode(`decision ${i}`);

describe.each(testBackends())('a Kysely-backed transparency log on $name', (backend) => {
  let cleanup: () => Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: the store works on any schema.
  let db: Kysely<any>;
  let store: LogStore;
  let other: LogStore;
  let checkpoints: CheckpointPublisher;
  let server: RunningServer;
  let publicKey: Uint8Array;
  const appended: Uint8Array[] = [];

  beforeAll(async () => {
    const test = await backend.open();
    const database = await openDatabase(test);
    db = database.db;
    cleanup = async () => {
      await database.close();
      await test.cleanup();
    };
    await migrateToLatest(db, migrations);
    store = new LogStore(db, { tables: TABLES, log: 'one' });
    other = new LogStore(db, { tables: TABLES, log: 'two' });
    await store.init();
    await other.init();
    const sodium = await loadSodium();
    const pair = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(9));
    publicKey = pair.publicKey;
    checkpoints = new CheckpointPublisher({
      db,
      store,
      signer: noteSigner('vitrine-test/demo', {
        publicKey: pair.publicKey,
        secretKey: pair.privateKey,
      }),
      intervalMs: 20,
      onError: (err) => {
        throw err;
      },
    });
    server = await startServer({
      port: 0,
      routes: (router) => router.service(LogService, logProofService(store, checkpoints)),
      files: [],
      healthServices: [LogService.typeName],
      logger: createLogger('tlog-store-test', { VITRINE_LOG_LEVEL: 'silent' }),
      httpResources: [
        {
          prefix: '/log/',
          handle: tileHandler({
            store,
            checkpoints,
            onError: (err) => {
              throw err;
            },
          }),
        },
      ],
    });
  });
  afterAll(async () => {
    await checkpoints?.stop();
    await server?.close();
    await cleanup?.();
  });

  // A connection per request: a kept-alive socket the server has timed out while a slow
  // step ran would be reset under the client, which says nothing about the log.
  const get = (path: string, init?: RequestInit) =>
    fetch(`${server.url}/log/${path}`, { ...init, headers: { connection: 'close' } });
  const client = () => createGrpcClient(LogService, server.url);

  async function appendInTransactions(from: number, to: number, batch: number) {
    for (let i = from; i < to; i += batch) {
      const count = Math.min(batch, to - i);
      await db.transaction().execute(async (tx) => {
        const { first } = await store.append(tx, count, (at) =>
          Array.from({ length: count }, (_, j) => leafOf(at + j)),
        );
        expect(first).toBe(i);
      });
      for (let j = 0; j < count; j++) appended.push(leafOf(i + j));
    }
  }

  it('has no checkpoint before the first is signed: 404 and unavailable', async () => {
    expect((await get('checkpoint')).status).toBe(404);
    expect(await grpcCodeOf(client().getCheckpoint({}))).toBe('UNAVAILABLE');
  });

  it('signs the empty log, then one checkpoint for each size it grows to', async () => {
    const empty = await checkpoints.publish();
    expect(empty.size).toBe(0);
    await appendInTransactions(0, 300, 7);
    const first = await checkpoints.publish();
    const again = await checkpoints.publish();
    expect(first.size).toBe(300);
    expect(again).toEqual(first);
    const rows = await db.selectFrom(TABLES.checkpoints).select('size').execute();
    expect(rows.map((r) => Number(r.size)).sort((a, b) => a - b)).toEqual([0, 300]);
    const note = await (await get('checkpoint')).text();
    const opened = await openNote(note, [noteKey('vitrine-test/demo', publicKey)]);
    const parsed = parseCheckpoint(opened.text);
    expect(parsed).toMatchObject({ origin: 'vitrine-test/demo', size: 300 });
    expect(Buffer.from(parsed.root)).toEqual(Buffer.from(rootOf(appended.map(hashLeaf))));
  });

  it('appends nothing when the transaction rolls back', async () => {
    const before = await store.size();
    await expect(
      db.transaction().execute(async (tx) => {
        await store.append(tx, 2, () => [leafOf(-1), leafOf(-2)]);
        throw new Error('the decision failed');
      }),
    ).rejects.toThrow('the decision failed');
    expect(await store.size()).toBe(before);
    const nodes = await db
      .selectFrom(TABLES.nodes)
      .select('idx')
      .where('log', '=', 'one')
      .where('level', '=', 0)
      .where('idx', '>=', BigInt(before))
      .execute();
    expect(nodes).toEqual([]);
    const leaves = await db
      .selectFrom(TABLES.leaves)
      .select('idx')
      .where('log', '=', 'one')
      .where('idx', '>=', BigInt(before))
      .execute();
    expect(leaves).toEqual([]);
  });

  it('serialises concurrent appends: every leaf once, in one consistent tree', async () => {
    const start = appended.length;
    const written = await Promise.all(
      Array.from({ length: 6 }, () =>
        db.transaction().execute((tx) =>
          store
            .append(tx, 3, (at) => [0, 1, 2].map((j) => leafOf(at + j)))
            .then((r) => {
              expect(r.size - r.first).toBe(3);
              return r.first;
            }),
        ),
      ),
    );
    expect([...written].sort((a, b) => a - b)).toEqual(
      [0, 1, 2, 3, 4, 5].map((k) => start + 3 * k),
    );
    for (let i = start; i < start + 18; i++) appended.push(leafOf(i));
    // A second log in the same tables is its own tree.
    await db.transaction().execute((tx) => other.append(tx, 1, () => [leafOf(1000)]));
    expect(await other.size()).toBe(1);
    expect(await store.size()).toBe(appended.length);
    expect(Buffer.from(await store.root(appended.length))).toEqual(
      Buffer.from(rootOf(appended.map(hashLeaf))),
    );
    expect(Buffer.from(await other.root(1))).toEqual(Buffer.from(hashLeaf(leafOf(1000))));
  });

  it('serves inclusion and consistency proofs that the verifier accepts', async () => {
    const latest = await checkpoints.publish();
    expect(latest.size).toBe(appended.length);
    const c = client();
    for (const index of [0, 1, 255, 256, latest.size - 1]) {
      const res = await c.getInclusionProof({ leaf: { case: 'leafIndex', value: BigInt(index) } });
      expect(res.checkpoint).toBe(latest.note);
      expect(Buffer.from(res.leaf)).toEqual(Buffer.from(appended[index] as Uint8Array));
      verifyInclusion(hashLeaf(res.leaf), index, latest.size, res.proof, latest.root);
      expect(() =>
        verifyInclusion(hashLeaf(leafOf(-5)), index, latest.size, res.proof, latest.root),
      ).toThrow();
    }
    const bySeq = await c.getInclusionProof({ leaf: { case: 'seq', value: 10n }, treeSize: 300n });
    expect(bySeq).toMatchObject({ leafIndex: 9n, treeSize: 300n, checkpoint: '' });
    const root300 = rootOf(appended.slice(0, 300).map(hashLeaf));
    verifyInclusion(hashLeaf(bySeq.leaf), 9, 300, bySeq.proof, root300);
    for (const old of [1, 2, 255, 256, 300, latest.size]) {
      const res = await c.getConsistencyProof({ oldSize: BigInt(old) });
      const oldRoot = rootOf(appended.slice(0, old).map(hashLeaf));
      verifyConsistency(old, latest.size, res.proof, oldRoot, latest.root);
    }
  });

  it('refuses proofs beyond the signed tree, leaves outside it and an old size of 0', async () => {
    const c = client();
    const size = BigInt(appended.length);
    const refused = async (call: Promise<unknown>) => {
      const err = await call.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      return (err as ConnectError).code;
    };
    expect(await refused(c.getInclusionProof({ leaf: { case: 'leafIndex', value: size } }))).toBe(
      Code.InvalidArgument,
    );
    expect(
      await refused(
        c.getInclusionProof({ leaf: { case: 'leafIndex', value: 0n }, treeSize: size + 1n }),
      ),
    ).toBe(Code.InvalidArgument);
    expect(await refused(c.getInclusionProof({ leaf: { case: 'seq', value: 0n } }))).toBe(
      Code.InvalidArgument,
    );
    expect(await refused(c.getInclusionProof({}))).toBe(Code.InvalidArgument);
    expect(await refused(c.getConsistencyProof({ oldSize: 0n }))).toBe(Code.InvalidArgument);
    expect(await refused(c.getConsistencyProof({ oldSize: size + 1n }))).toBe(Code.InvalidArgument);
    expect(await refused(c.getConsistencyProof({ oldSize: 1n, newSize: size + 1n }))).toBe(
      Code.InvalidArgument,
    );
  });

  it('serves hash tiles and entry bundles from storage, immutable, 404 beyond the tree', async () => {
    const size = (await checkpoints.publish()).size;
    expect(size).toBe(appended.length);
    const full = await get('tile/0/000');
    expect(full.status).toBe(200);
    expect(full.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const hashes = new Uint8Array(await full.arrayBuffer());
    expect(hashes.length).toBe(256 * 32);
    expect(Buffer.from(hashes.subarray(32 * 7, 32 * 8))).toEqual(
      Buffer.from(hashLeaf(appended[7] as Uint8Array)),
    );
    const partialWidth = size - 256;
    const partial = await get(`tile/0/001.p/${partialWidth}`);
    expect(partial.status).toBe(200);
    expect((await partial.arrayBuffer()).byteLength).toBe(partialWidth * 32);
    const level1 = await get('tile/1/000.p/1');
    expect(Buffer.from(await level1.arrayBuffer())).toEqual(
      Buffer.from(rootOf(appended.slice(0, 256).map(hashLeaf))),
    );
    const bundle = await get(`tile/entries/001.p/${partialWidth}`);
    expect(bundle.status).toBe(200);
    const entries = decodeEntryBundle(new Uint8Array(await bundle.arrayBuffer()));
    expect(entries.map((e) => Buffer.from(e).toString())).toEqual(
      appended.slice(256).map((e) => Buffer.from(e).toString()),
    );
    for (const beyond of [
      `tile/0/001.p/${partialWidth + 1}`,
      'tile/0/001',
      'tile/0/002.p/1',
      'tile/1/000',
      'tile/2/000.p/1',
      `tile/entries/001.p/${partialWidth + 1}`,
    ]) {
      const res = await get(beyond);
      expect(res.status, beyond).toBe(404);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    for (const malformed of [
      'tile/0/1',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/x/000',
      'tiles',
      '',
    ]) {
      expect((await get(malformed)).status, malformed).toBe(404);
    }
    expect((await get('checkpoint', { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await get('tile/0/000', { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('signs within the interval once started, and never two checkpoints for one size', async () => {
    checkpoints.start();
    await appendInTransactions(appended.length, appended.length + 3, 3);
    const deadline = Date.now() + 30_000;
    let latest = await checkpoints.latest();
    while ((latest?.size ?? 0) < appended.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      latest = await checkpoints.latest();
    }
    expect(latest?.size).toBe(appended.length);
    const sizes = (
      await db.selectFrom(TABLES.checkpoints).select('size').where('log', '=', 'one').execute()
    ).map((r) => Number(r.size));
    expect(new Set(sizes).size).toBe(sizes.length);
  });
});
