import { type Timestamp, timestampDate } from '@bufbuild/protobuf/wkt';
import type { Principal } from '@vitrine/credentials';
import { VitrineError } from '@vitrine/errors';
import { afterCursor, decodePageToken } from '@vitrine/storage';
import type { RawBuilder, SqlBool } from 'kysely';
import { assertListFilter } from './validate.js';

/** The filters every listing of this service shares: a partner and a time range. */
export interface ListFilter {
  /** '' for every partner (operators only). */
  readonly partnerId: string;
  readonly since: Date | undefined;
  readonly until: Date | undefined;
}

/** A listing request's partner and time range, validated (`invalid_argument`). */
export function listFilterOf(
  req: { partnerId: string; since?: Timestamp | undefined; until?: Timestamp | undefined },
  approver = '',
): ListFilter {
  const filter = {
    partnerId: req.partnerId,
    since: req.since ? timestampDate(req.since) : undefined,
    until: req.until ? timestampDate(req.until) : undefined,
  };
  assertListFilter({ ...filter, approver });
  return filter;
}

/**
 * The partner a listing is limited to: the one asked for by an operator (or none), always
 * the caller itself for a partner, who may not ask about another (`permission_denied`).
 */
export function partnerScope(caller: Principal, partnerId: string, what: string): string {
  if (caller.kind === 'operator') return partnerId;
  if (partnerId !== '' && partnerId !== caller.id) {
    throw new VitrineError('permission_denied', `a partner sees only its own ${what}`);
  }
  return caller.id;
}

/**
 * Keyset condition for listings ordered by (`column` desc, id desc), a timestamp column:
 * rows strictly after the page token's cursor (see afterCursor).
 */
export function afterPageToken(column: string, pageToken: string): RawBuilder<SqlBool> | undefined {
  const cursor = decodePageToken(pageToken);
  return cursor && afterCursor(column, cursor, new Date(Number(cursor.order)));
}
