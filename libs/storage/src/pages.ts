import { FieldViolations, invalidField } from '@vitrine/errors';
import { type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * A keyset cursor: the sort key and id of the last row of the previous page. Lists are
 * ordered by (order desc, id desc), so a page after a cursor is stable while rows are
 * added.
 */
export interface PageCursor {
  /** The row's position in the listing's order (an HLC, a time in milliseconds). */
  readonly order: bigint;
  readonly id: string;
}

/** Opaque page token for a cursor. */
export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(`${cursor.order}:${cursor.id}`).toString('base64url');
}

/** The cursor of a page token; `invalid_argument` when the token was not made here. */
export function decodePageToken(token: string): PageCursor | undefined {
  if (token === '') return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^([0-9]{1,20}):([a-z0-9-]{1,64})$/.exec(text);
  if (!match?.[1] || !match[2]) {
    throw invalidField('page_token', 'not a token from this API');
  }
  return { order: BigInt(match[1]), id: match[2] };
}

/**
 * The keyset condition of a listing ordered by (`column` desc, id desc): rows strictly
 * after `cursor`, as one row comparison, which both PostgreSQL and PGlite answer from an
 * index on (column, id). `order` is the cursor's position as `column` holds it: the HLC
 * itself, or a Date for a timestamp column (see `orderOf` in {@link paginate}).
 */
export function afterCursor(
  column: string,
  cursor: PageCursor,
  order: unknown = cursor.order,
): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.ref(column)}, ${sql.ref('id')}) < (${order}, ${cursor.id})`;
}

/**
 * The page of a keyset query that fetched `limit + 1` rows: the first `limit`, and a token
 * for the next page when there was one more.
 */
export function paginate<Row extends { id: string }>(
  rows: readonly Row[],
  limit: number,
  orderOf: (row: Row) => bigint,
): { page: Row[]; nextPageToken: string } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const more = rows.length > limit && last !== undefined;
  return {
    page,
    nextPageToken: more ? encodePageToken({ order: orderOf(last), id: last.id }) : '',
  };
}

/** The page size a list call asked for: 100 when unset, at most 1000 (`invalid_argument`). */
export function pageSize(field: string, size: number): number {
  new FieldViolations().check(size <= 1000, field, 'at most 1000').throwIfAny();
  return size === 0 ? 100 : size;
}
