import { loadSodium } from '@vitrine/crypto';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import {
  decodeEntryBundle,
  hashLeaf,
  noteKey,
  noteSigner,
  openNote,
  parseCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@vitrine/tlog';
import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { CheckpointPublisher, LogStore, type LogTables, type StoreDb } from '../src/index.js';

/**
 * A service that keeps its leaves itself, as a center does (events by origin and sequence,
 * a head per origin it bumps itself), with the store's hash and checkpoint tables under
 * its own names and columns.
 */
const migrations = {
  '0001-events': {
    async up(db: Kysely<unknown>) {
      await sql`create table events (origin text not null, seq int8 not null, header bytea not null, signature bytea not null, primary key (origin, seq))`.execute(
        db,
      );
      await sql`create table log_heads (origin text primary key, seq int8 not null)`.execute(db);
      await sql`create table log_nodes (origin text not null, level int4 not null, idx int8 not null, hash bytea not null, primary key (origin, level, idx))`.execute(
        db,
      );
      await sql`create table log_checkpoints (origin text not null, size int8 not null, root bytea not null, note text not null, primary key (origin, size))`.execute(
        db,
      );
    },
  },
};

const TABLES: LogTables = {
  nodes: 'log_nodes',
  leaves: 'events',
  heads: 'log_heads',
  checkpoints: 'log_checkpoints',
  logColumn: 'origin',
  sizeColumn: 'seq',
};

/** A leaf is the event's header and signature, concatenated (for this test). */
const leafOf = (header: Uint8Array, signature: Uint8Array) => Buffer.concat([header, signature]);

const eventLeaves = {
  async read(db: StoreDb, start: number, end: number) {
    const rows = await db
      .selectFrom('events')
      .select(['header', 'signature'])
      .where('origin', '=', 'europe')
      .where('seq', '>', BigInt(start))
      .where('seq', '<=', BigInt(end))
      .orderBy('seq')
      .execute();
    return rows.map((r: { header: Uint8Array; signature: Uint8Array }) =>
      leafOf(r.header, r.signature),
    );
  },
};

describe.each(testBackends())('a log whose leaves the service keeps, on $name', (backend) => {
  it('reads size, leaves and hashes from the service’s own tables and columns', async () => {
    const test = await backend.open();
    const database = await openDatabase(test);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the test's tables are made in SQL.
      const db = database.db as Kysely<any>;
      await migrateToLatest(db, migrations);
      await db.insertInto('log_heads').values({ origin: 'europe', seq: 0n }).execute();
      await db.insertInto('log_heads').values({ origin: 'asia', seq: 0n }).execute();
      const store = new LogStore(db, { tables: TABLES, log: 'europe', leafSource: eventLeaves });
      const leaves: Buffer[] = [];
      // The service appends its events and bumps its head, then stores the hashes.
      for (let batch = 0; batch < 5; batch++) {
        await db.transaction().execute(async (tx) => {
          const head = await tx
            .updateTable('log_heads')
            .set((eb) => ({ seq: eb('seq', '+', 60n) }))
            .where('origin', '=', 'europe')
            .returning('seq')
            .executeTakeFirstOrThrow();
          const size = Number(head.seq) - 60;
          const fresh = Array.from({ length: 60 }, (_, i) => ({
            origin: 'europe',
            seq: BigInt(size + i + 1),
            header: Buffer.from(`header ${size + i}`),
            signature: Buffer.alloc(64, size + i),
          }));
          await tx.insertInto('events').values(fresh).execute();
          const batchLeaves = fresh.map((e) => leafOf(e.header, e.signature));
          await store.appendAt(tx, size, batchLeaves);
          leaves.push(...batchLeaves);
        });
      }
      expect(await store.size()).toBe(300);
      expect(await db.selectFrom('log_nodes').select('origin').distinct().execute()).toEqual([
        { origin: 'europe' },
      ]);
      const sodium = await loadSodium();
      const pair = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(5));
      const checkpoints = new CheckpointPublisher({
        db,
        store,
        signer: noteSigner('vitrine-test/europe', {
          publicKey: pair.publicKey,
          secretKey: pair.privateKey,
        }),
        intervalMs: 1_000,
        onError: (err) => {
          throw err;
        },
      });
      const signed = await checkpoints.publish();
      const opened = await openNote(signed.note, [noteKey('vitrine-test/europe', pair.publicKey)]);
      expect(parseCheckpoint(opened.text).size).toBe(300);
      const [leaf] = await store.leaves(299, 300);
      expect(Buffer.from(leaf as Uint8Array)).toEqual(leaves[299]);
      verifyInclusion(
        hashLeaf(leaf as Uint8Array),
        299,
        300,
        await store.inclusionProof(299, 300),
        signed.root,
      );
      verifyConsistency(
        120,
        300,
        await store.consistencyProof(120, 300),
        await store.root(120),
        signed.root,
      );
      const bundle = await store.tile({ level: 'entries', index: 1, width: 44 });
      expect(decodeEntryBundle(bundle).map((e) => Buffer.from(e))).toEqual(leaves.slice(256));
      // Nothing was written to the leaf table beyond the service's own events.
      expect(
        Number(
          (
            await db
              .selectFrom('events')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        ),
      ).toBe(300);
    } finally {
      await database.close();
      await test.cleanup();
    }
  });
});
