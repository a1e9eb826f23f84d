import { testBackends } from '@vitrine/testing';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/index.js';
import { type OpenedDatabase, openOn } from './fixtures.js';

interface Schema {
  sample: {
    id: bigint;
    counter: bigint | null;
    counters: (bigint | null)[] | null;
    payload: Uint8Array | null;
    at: Date | null;
    day: string | null;
    amount: string | null;
  };
}

const migrations: Record<string, Migration> = {
  '0001-sample': {
    up: async (db: Kysely<unknown>) => {
      await sql`create table sample (
        id int8 primary key, counter int8, counters int8[], payload bytea,
        at timestamptz, day date, amount numeric)`.execute(db);
    },
  },
};

describe.each(testBackends())('column types on $name', (backend) => {
  let opened: OpenedDatabase<Schema>;
  let db: Kysely<Schema>;
  let nextId = 1n;

  beforeAll(async () => {
    opened = await openOn<Schema>(backend);
    db = opened.database.db;
    await migrateToLatest(db, migrations);
  });
  afterAll(() => opened.dispose());

  async function roundTrip(values: Omit<Partial<Schema['sample']>, 'id'>) {
    const id = nextId++;
    await db
      .insertInto('sample')
      .values({ id, ...values })
      .execute();
    return db.selectFrom('sample').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  it('returns int8 as bigint, beyond 2^53 and below', async () => {
    const big = 2n ** 63n - 1n;
    const row = await roundTrip({ counter: big });
    expect(row.counter).toBe(big);
    expect(row.id).toBeTypeOf('bigint');
    const small = await roundTrip({ counter: -(2n ** 53n) - 3n });
    expect(small.counter).toBe(-(2n ** 53n) - 3n);
  });

  it('binds bigint parameters in where clauses and arithmetic', async () => {
    const big = 2n ** 60n + 7n;
    await roundTrip({ counter: big });
    const found = await db
      .selectFrom('sample')
      .select(sql<bigint>`counter + ${1n}`.as('next'))
      .where('counter', '=', big)
      .executeTakeFirstOrThrow();
    expect(found.next).toBe(big + 1n);
  });

  it('returns int8[] as bigint arrays with nulls kept', async () => {
    const row = await roundTrip({ counters: [1n, 2n ** 62n, null] });
    expect(row.counters).toEqual([1n, 2n ** 62n, null]);
  });

  it('returns bytea as a plain Uint8Array, byte for byte', async () => {
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
    const row = await roundTrip({ payload: bytes });
    expect(row.payload?.constructor).toBe(Uint8Array);
    expect(row.payload).toEqual(bytes);
    const empty = await roundTrip({ payload: new Uint8Array(0) });
    expect(empty.payload).toEqual(new Uint8Array(0));
  });

  it('accepts a Buffer for bytea and still returns a plain Uint8Array', async () => {
    const row = await roundTrip({ payload: Buffer.from('00ff10', 'hex') });
    expect(row.payload?.constructor).toBe(Uint8Array);
    expect(Array.from(row.payload ?? [])).toEqual([0x00, 0xff, 0x10]);
  });

  it('returns timestamptz as Date with millisecond precision', async () => {
    const at = new Date('2031-05-06T07:08:09.123Z');
    const row = await roundTrip({ at });
    expect(row.at).toBeInstanceOf(Date);
    expect(row.at?.toISOString()).toBe('2031-05-06T07:08:09.123Z');
  });

  it('returns date as a YYYY-MM-DD string and numeric as a decimal string', async () => {
    const row = await roundTrip({ day: '2030-12-31', amount: '12345678901234567890.0100' });
    expect(row.day).toBe('2030-12-31');
    expect(row.amount).toBe('12345678901234567890.0100');
  });

  it('reports affected rows for update and delete', async () => {
    await roundTrip({ counter: 500n });
    await roundTrip({ counter: 500n });
    const updated = await db
      .updateTable('sample')
      .set({ amount: '1' })
      .where('counter', '=', 500n)
      .executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(2n);
    const deleted = await db.deleteFrom('sample').where('counter', '=', 500n).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(2n);
  });

  it('surfaces the Postgres error code of a unique violation', async () => {
    await roundTrip({});
    const duplicate = db
      .insertInto('sample')
      .values({ id: nextId - 1n })
      .execute();
    await expect(duplicate).rejects.toMatchObject({ code: '23505' });
  });
});
