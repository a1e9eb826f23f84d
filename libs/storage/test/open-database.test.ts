import { join } from 'node:path';
import { type TestBackend, tempDir, testBackends } from '@vitrine/testing';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/index.js';

interface Schema {
  event: { seq: bigint; body: Uint8Array };
}

const pglite = testBackends().find((backend) => backend.name === 'pglite');
const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe('openDatabase', () => {
  it('keeps PGlite data across close and reopen of the same folder', async () => {
    const dir = await tempDir('vitrine-storage-');
    try {
      const dataDir = join(dir.path, 'nested', 'center');
      const first = await openDatabase<Schema>({ dataDir });
      expect(first.kind).toBe('pglite');
      await sql`create table event (seq int8 primary key, body bytea not null)`.execute(first.db);
      const body = new Uint8Array([1, 2, 3]);
      await first.db
        .insertInto('event')
        .values({ seq: 2n ** 62n, body })
        .execute();
      await first.close();

      const second = await openDatabase<Schema>({ dataDir });
      const rows = await second.db.selectFrom('event').selectAll().execute();
      await second.close();
      expect(rows).toEqual([{ seq: 2n ** 62n, body }]);
    } finally {
      await dir.cleanup();
    }
  });

  it('refuses to open a PGlite folder that this process already has open', async () => {
    const target = await (pglite as TestBackend).open();
    const dataDir = target.dataDir as string;
    const first = await openDatabase({ dataDir });
    try {
      await expect(openDatabase({ dataDir: `${dataDir}/.` })).rejects.toMatchObject({
        code: 'failed_precondition',
        message: 'this PGlite data folder is already open',
      });
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir });
    await again.close();
    await target.cleanup();
  });

  it.runIf(postgres)('keeps its type parsers to its own pool, not pg globals', async () => {
    const target = await (postgres as TestBackend).open();
    const database = await openDatabase(target);
    const result = await sql<{ v: bigint }>`select 5::int8 as v`.execute(database.db);
    await database.close();
    await target.cleanup();
    expect(result.rows).toEqual([{ v: 5n }]);
    expect(pg.types.getTypeParser(20, 'text')('5')).toBe('5');
  });

  it('opens an in-memory PGlite when no folder is given', async () => {
    const database = await openDatabase<Schema>({});
    const result = await sql<{ v: bigint }>`select 1::int8 as v`.execute(database.db);
    await database.close();
    expect(database.kind).toBe('pglite');
    expect(result.rows).toEqual([{ v: 1n }]);
  });

  it('rejects a URL of another scheme with invalid_argument', async () => {
    const opening = openDatabase({ url: 'mysql://root@127.0.0.1/db' });
    await expect(opening).rejects.toMatchObject({
      code: 'invalid_argument',
      message: 'database url must start with postgres://',
    });
  });

  it('reports an unreachable server as unavailable without leaking the password', async () => {
    // Port 9 (discard) on loopback: nothing listens there, the connection is refused.
    const opening = openDatabase({ url: 'postgres://vitrine:s3cret@127.0.0.1:9/center' });
    const error = await opening.catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'unavailable',
      message: 'cannot reach PostgreSQL at 127.0.0.1:9/center',
    });
  });
});
