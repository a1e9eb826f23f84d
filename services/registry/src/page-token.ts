import { VitrineError } from '@vitrine/errors';

/** A keyset cursor: the (HLC, id) of the last row of the previous page. */
export interface PageCursor {
  readonly hlc: bigint;
  readonly id: string;
}

/** Opaque page token for a cursor. */
export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(`${cursor.hlc}:${cursor.id}`).toString('base64url');
}

/** The cursor of a page token; `invalid_argument` when the token was not made here. */
export function decodePageToken(token: string): PageCursor | undefined {
  if (token === '') return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const match = /^([0-9]{1,20}):([a-z0-9-]{1,64})$/.exec(text);
  if (!match?.[1] || !match[2]) {
    throw new VitrineError(
      'invalid_argument',
      'invalid request: page_token: not a token from this API',
    );
  }
  return { hlc: BigInt(match[1]), id: match[2] };
}

/**
 * The page of a keyset query that fetched `limit + 1` rows: the first `limit`, and a token
 * for the next page when there was one more.
 */
export function paginate<Row extends { id: string }>(
  rows: readonly Row[],
  limit: number,
  hlcOf: (row: Row) => bigint,
): { page: Row[]; nextPageToken: string } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const more = rows.length > limit && last !== undefined;
  return { page, nextPageToken: more ? encodePageToken({ hlc: hlcOf(last), id: last.id }) : '' };
}
