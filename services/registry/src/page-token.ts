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
