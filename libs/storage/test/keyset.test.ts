import { testBackends } from '@vitrine/testing';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCursor, decodePageToken, migrateToLatest, paginate } from '../src/index.js';
import { type OpenedDatabase, openOn } from './fixtures.js';

interface Schema {
  item: { id: string; hlc: bigint; at: Date };
}

const migrations: Record<string, Migration> = {
  '0001-items': {
    up: async (db: Kysely<unknown>) => {
      await sql`create table item (id text primary key, hlc int8 not null, at timestamptz not null)`.execute(
        db,
      );
      await sql`create index item_hlc on item (hlc, id)`.execute(db);
    },
  },
};

/** Ten rows, three of them sharing one order value, so a page can end inside a tie. */
const ROWS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((id, i) => {
  const order = i >= 3 && i <= 5 ? 4 : i + 1;
  return { id, hlc: BigInt(order), at: new Date(1_764_000_000_000 + order) };
});

describe.each(testBackends())('keyset paging on $name', (backend) => {
  let opened: OpenedDatabase<Schema>;
  let db: Kysely<Schema>;

  beforeAll(async () => {
    opened = await openOn<Schema>(backend);
    db = opened.database.db;
    await migrateToLatest(db, migrations);
    await db.insertInto('item').values(ROWS).execute();
  });
  afterAll(() => opened.dispose());

  /** Every id, page by page of `limit`, following next-page tokens as a client does. */
  async function walk(column: 'hlc' | 'at', limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let token = '';
    do {
      const cursor = decodePageToken(token);
      let query = db.selectFrom('item').selectAll();
      if (cursor) {
        const order = column === 'at' ? new Date(Number(cursor.order)) : cursor.order;
        query = query.where(afterCursor(column, cursor, order));
      }
      const rows = await query
        .orderBy(column, 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const orderOf = (r: (typeof rows)[number]) =>
        column === 'at' ? BigInt(r.at.getTime()) : r.hlc;
      const { page, nextPageToken } = paginate(rows, limit, orderOf);
      pages.push(page.map((r) => r.id));
      token = nextPageToken;
    } while (token !== '');
    return pages;
  }

  it('walks an int8 order through a tie, each row once, newest first', async () => {
    expect(await walk('hlc', 4)).toEqual([
      ['j', 'i', 'h', 'g'],
      ['f', 'e', 'd', 'c'],
      ['b', 'a'],
    ]);
  });

  it('walks a timestamp order the same way, the cursor given as a Date', async () => {
    expect(await walk('at', 2)).toEqual([
      ['j', 'i'],
      ['h', 'g'],
      ['f', 'e'],
      ['d', 'c'],
      ['b', 'a'],
    ]);
  });

  it('leaves out the cursor row and every row before it, and nothing after', async () => {
    const rows = await db
      .selectFrom('item')
      .select('id')
      .where(afterCursor('hlc', { order: 4n, id: 'e' }))
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});
