import { isVitrineError } from '@vitrine/errors';
import { testBackends } from '@vitrine/testing';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationError, migrateToLatest } from '../src/index.js';
import { type OpenedDatabase, openOn } from './fixtures.js';

interface Schema {
  artifact: { id: bigint; name: string; size: bigint | null };
}

const initial: Migration = {
  up: async (db: Kysely<unknown>) => {
    await sql`create table artifact (id int8 primary key, name text not null)`.execute(db);
  },
};
const addSize: Migration = {
  up: async (db: Kysely<unknown>) => {
    // Two statements in one string: must work on both backends.
    await sql`alter table artifact add column size int8; create index artifact_size on artifact (size)`.execute(
      db,
    );
  },
};
const broken: Migration = {
  up: async (db: Kysely<unknown>) => {
    await sql`create table half_done (id int4)`.execute(db);
    await sql`select * from missing_table`.execute(db);
  },
};

describe.each(testBackends())('migrateToLatest on $name', (backend) => {
  let opened: OpenedDatabase<Schema>;
  let db: Kysely<Schema>;

  beforeEach(async () => {
    opened = await openOn<Schema>(backend);
    db = opened.database.db;
  });
  afterEach(() => opened.dispose());

  it('applies migrations in name order and reports them', async () => {
    const applied = await migrateToLatest(db, { '0002-size': addSize, '0001-initial': initial });
    expect(applied).toEqual(['0001-initial', '0002-size']);
    await db.insertInto('artifact').values({ id: 1n, name: 'a', size: 10n }).execute();
  });

  it('is a no-op on a second run and applies only what is new', async () => {
    expect(await migrateToLatest(db, { '0001-initial': initial })).toEqual(['0001-initial']);
    expect(await migrateToLatest(db, { '0001-initial': initial })).toEqual([]);
    const both = { '0001-initial': initial, '0002-size': addSize };
    expect(await migrateToLatest(db, both)).toEqual(['0002-size']);
    expect(await migrateToLatest(db, both)).toEqual([]);
  });

  it('names the failed migration and leaves the schema as before the run', async () => {
    const run = migrateToLatest(db, { '0001-initial': initial, '0002-broken': broken });
    const error = await run.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationError);
    expect(isVitrineError(error, 'internal')).toBe(true);
    expect((error as MigrationError).migrationName).toBe('0002-broken');
    expect((error as MigrationError).message).toContain('0002-broken');
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_name in ('artifact', 'half_done') order by 1`.execute(db);
    expect(tables.rows).toEqual([]);
    expect(await migrateToLatest(db, { '0001-initial': initial })).toEqual(['0001-initial']);
  });

  it('refuses badly named migrations with every bad name listed', async () => {
    const run = migrateToLatest(db, { initial, '1-x': addSize, '0001-initial': initial });
    await expect(run).rejects.toMatchObject({
      code: 'invalid_argument',
      violations: [
        { field: 'initial', message: 'must look like 0001-initial' },
        { field: '1-x', message: 'must look like 0001-initial' },
      ],
    });
  });
});
