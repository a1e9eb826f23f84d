import { testBackends } from '@vitrine/testing';
import {
  consistencyProof,
  hashChildren,
  hashLeaf,
  inclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '@vitrine/tlog';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryMigrations } from '../src/migrations/index.js';
import { logLeaf } from '../src/transparency/log-leaf.js';
import { logHashReader } from '../src/transparency/log-tree-store.js';
import { accessRecord, openTestCenter, pendingFeed, type TestCenter } from './test-center.js';

/** MTH(D[n]) of RFC 9162 §2.1.1, straight from the definition: the reference to agree with. */
function referenceRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return hashLeaf(leaves[0] as Uint8Array);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

describe.each(testBackends())('transparency log of each origin on $name', (backend) => {
  const keys = new Map<string, Uint8Array>();
  let eu: TestCenter;
  let us: TestCenter;

  async function appendRecords(from: number, count: number) {
    const entries = Array.from({ length: count }, (_, i) => accessRecord(from + i));
    await eu.log.transact(eu.database.db, (tx) => eu.log.appendAll(tx, entries));
  }

  async function leavesOf(center: TestCenter, origin: string): Promise<Uint8Array[]> {
    const rows = await center.database.db
      .selectFrom('events')
      .select(['header', 'signature'])
      .where('origin', '=', origin)
      .orderBy('seq')
      .execute();
    return rows.map((r) => logLeaf(r.header, r.signature));
  }

  async function replicate() {
    const report = await us.replica.ingestAll(await pendingFeed(eu, us));
    expect(report.refusal).toBeUndefined();
  }

  beforeAll(async () => {
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    us = await openTestCenter(backend, 'us', 'US', keys);
  });
  afterAll(async () => {
    await eu?.cleanup();
    await us?.cleanup();
  });

  it('stores the tree of every appended event, one by one or in batches, as RFC 9162 defines it', async () => {
    await appendRecords(0, 1);
    await appendRecords(1, 2);
    await appendRecords(3, 300);
    await appendRecords(303, 1);
    const leaves = await leavesOf(eu, 'europe');
    expect(leaves).toHaveLength(304);
    const reader = logHashReader(eu.database.db, 'europe');
    for (const size of [1, 2, 3, 255, 256, 257, 303, 304]) {
      expect(await treeRoot(size, reader)).toEqual(referenceRoot(leaves.slice(0, size)));
    }
  });

  it('proves inclusion of each event and consistency between sizes from stored hashes', async () => {
    const leaves = await leavesOf(eu, 'europe');
    const reader = logHashReader(eu.database.db, 'europe');
    const size = leaves.length;
    const root = await treeRoot(size, reader);
    for (const index of [0, 1, 2, 128, 255, 256, size - 1]) {
      const proof = await inclusionProof(index, size, reader);
      verifyInclusion(hashLeaf(leaves[index] as Uint8Array), index, size, proof, root);
    }
    for (const old of [1, 3, 256, 300]) {
      const proof = await consistencyProof(old, size, reader);
      verifyConsistency(old, size, proof, await treeRoot(old, reader), root);
    }
  });

  it('builds the same tree of europe at a center that received its events', async () => {
    await replicate();
    const size = (await leavesOf(eu, 'europe')).length;
    const atUs = await treeRoot(size, logHashReader(us.database.db, 'europe'));
    expect(atUs).toEqual(await treeRoot(size, logHashReader(eu.database.db, 'europe')));
    await appendRecords(304, 5);
    await replicate();
    const grown = await treeRoot(size + 5, logHashReader(us.database.db, 'europe'));
    expect(grown).toEqual(referenceRoot(await leavesOf(eu, 'europe')));
  });

  it('appends the events a center held before it kept logs, when it migrates', async () => {
    const db = eu.database.db;
    const before = await treeRoot(309, logHashReader(db, 'europe'));
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...registryMigrations }) },
      ...(rows[0]?.schema ? { migrationTableSchema: rows[0].schema } : {}),
    });
    const down = await migrator.migrateTo('0006-proof-nonces');
    // Every migration after 0006 is undone, newest first, the transparency log's among them.
    const after = Object.keys(registryMigrations).filter((name) => name > '0006-proof-nonces');
    expect(after).toContain('0009-transparency-log');
    expect(down.results?.map((r) => [r.migrationName, r.status])).toEqual(
      after
        .sort()
        .reverse()
        .map((name) => [name, 'Success']),
    );
    const up = await migrator.migrateToLatest();
    expect(up.error).toBeUndefined();
    expect(await treeRoot(309, logHashReader(db, 'europe'))).toEqual(before);
    expect(before).toEqual(referenceRoot(await leavesOf(eu, 'europe')));
  });
});
