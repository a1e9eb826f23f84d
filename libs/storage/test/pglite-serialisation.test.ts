import { type TestBackend, testBackends } from '@vitrine/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { type Database, openDatabase } from '../src/index.js';
import { type OpenedDatabase, openOn } from './fixtures.js';

interface Schema {
  counter: { name: string; value: bigint };
  note: { id: number; body: string };
}

class Planned extends Error {}

/** Lets other queued work run if nothing holds it back. */
const yieldToEventLoop = () => new Promise((resolve) => setTimeout(resolve, 5));

const pglite = testBackends().find((backend) => backend.name === 'pglite') as TestBackend;

describe('PGlite single connection', () => {
  let opened: OpenedDatabase<Schema>;
  let db: Kysely<Schema>;

  beforeAll(async () => {
    opened = await openOn<Schema>(pglite);
    db = opened.database.db;
    await sql`create table counter (name text primary key, value int8 not null)`.execute(db);
    await sql`create table note (id int4 primary key, body text not null)`.execute(db);
  });
  afterAll(() => opened.dispose());
  beforeEach(async () => {
    await db.deleteFrom('note').execute();
    await db.deleteFrom('counter').execute();
  });

  it('runs 20 concurrent read-increment-write transactions one after another', async () => {
    await db.insertInto('counter').values({ name: 'hits', value: 0n }).execute();
    const increments = Array.from({ length: 20 }, () =>
      db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('counter')
          .select('value')
          .where('name', '=', 'hits')
          .executeTakeFirstOrThrow();
        await yieldToEventLoop();
        await trx
          .updateTable('counter')
          .set({ value: row.value + 1n })
          .where('name', '=', 'hits')
          .execute();
      }),
    );
    await Promise.all(increments);
    const final = await db.selectFrom('counter').select('value').executeTakeFirstOrThrow();
    expect(final.value).toBe(20n);
  });

  it('keeps a query issued during a transaction out of it', async () => {
    let outside: Promise<unknown> = Promise.resolve();
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('note').values({ id: 1, body: 'inside' }).execute();
      outside = db.insertInto('note').values({ id: 2, body: 'outside' }).execute();
      await yieldToEventLoop();
      throw new Planned('abandon');
    });
    await expect(attempt).rejects.toBeInstanceOf(Planned);
    await outside;
    const rows = await db.selectFrom('note').select('body').execute();
    expect(rows).toEqual([{ body: 'outside' }]);
  });

  it('refuses streaming with a coded error', async () => {
    const stream = db.selectFrom('note').selectAll().stream();
    await expect(stream.next()).rejects.toMatchObject({ code: 'internal' });
    expect(await db.selectFrom('note').selectAll().execute()).toEqual([]);
  });

  it('finishes queued queries before close and refuses later ones', async () => {
    const target = await pglite.open();
    onTestFinished(() => target.cleanup());
    const other: Database<Schema> = await openDatabase<Schema>(target);
    await sql`create table note (id int4 primary key, body text not null)`.execute(other.db);
    const inFlight = other.db.insertInto('note').values({ id: 9, body: 'queued' }).execute();
    const closing = other.close();
    await expect(inFlight).resolves.toHaveLength(1);
    await closing;
    await expect(other.db.selectFrom('note').selectAll().execute()).rejects.toThrow(
      'driver has already been destroyed',
    );
  });
});
