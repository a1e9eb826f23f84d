import { testBackends } from '@vitrine/testing';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/index.js';
import { type OpenedDatabase, openOn } from './fixtures.js';

interface Schema {
  counter: { name: string; value: bigint };
  note: { id: number; body: string };
}

const migrations: Record<string, Migration> = {
  '0001-counters': {
    up: async (db: Kysely<unknown>) => {
      await sql`create table counter (name text primary key, value int8 not null)`.execute(db);
      await sql`create table note (id int4 primary key, body text not null)`.execute(db);
    },
  },
};

class Planned extends Error {}

describe.each(testBackends())('transactions on $name', (backend) => {
  let opened: OpenedDatabase<Schema>;
  let db: Kysely<Schema>;

  beforeAll(async () => {
    opened = await openOn<Schema>(backend);
    db = opened.database.db;
    await migrateToLatest(db, migrations);
  });
  afterAll(() => opened.dispose());
  beforeEach(async () => {
    await db.deleteFrom('note').execute();
    await db.deleteFrom('counter').execute();
  });

  it('leaves nothing behind when the callback throws', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('note').values({ id: 1, body: 'draft' }).execute();
      await trx.insertInto('counter').values({ name: 'n', value: 1n }).execute();
      throw new Planned('abandon');
    });
    await expect(attempt).rejects.toBeInstanceOf(Planned);
    expect(await db.selectFrom('note').selectAll().execute()).toEqual([]);
    expect(await db.selectFrom('counter').selectAll().execute()).toEqual([]);
  });

  it('rolls back when a statement fails inside the transaction', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('note').values({ id: 1, body: 'first' }).execute();
      await trx.insertInto('note').values({ id: 1, body: 'duplicate' }).execute();
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(await db.selectFrom('note').selectAll().execute()).toEqual([]);
  });

  it('commits work and keeps the connection usable afterwards', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('note').values({ id: 2, body: 'kept' }).execute();
    });
    const rows = await db.selectFrom('note').select(['id', 'body']).execute();
    expect(rows).toEqual([{ id: 2, body: 'kept' }]);
  });

  it('rolls back to a savepoint without losing earlier work', async () => {
    const trx = await db.startTransaction().execute();
    await trx.insertInto('note').values({ id: 3, body: 'before' }).execute();
    const inner = await trx.savepoint('inner').execute();
    await inner.insertInto('note').values({ id: 4, body: 'after' }).execute();
    await inner.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    const ids = await db.selectFrom('note').select('id').execute();
    expect(ids).toEqual([{ id: 3 }]);
  });

  it('serialises 20 concurrent read-increment-write transactions (row lock)', async () => {
    await db.insertInto('counter').values({ name: 'hits', value: 0n }).execute();
    const increments = Array.from({ length: 20 }, () =>
      db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('counter')
          .select('value')
          .where('name', '=', 'hits')
          .forUpdate()
          .executeTakeFirstOrThrow();
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
});
