import type { Principal } from '@vitrine/credentials';
import { paginate } from '@vitrine/storage';
import type { Kysely, Selectable } from 'kysely';
import type { RequestView } from './convert.js';
import { afterPageToken, type ListFilter, partnerScope } from './listing.js';
import { revocationsOf } from './revoked-credentials.js';
import type { AccessDatabase, AccessRequestTable } from './schema.js';

type RequestRow = Selectable<AccessRequestTable>;

/** Filters of a request listing (already validated). */
export interface RequestFilter extends ListFilter {
  /** `operator:<name>`: requests that approver decided; '' for any. */
  readonly approver: string;
}

/** A page of requests, newest first: all for operators, its own for a partner. */
export async function listRequests(
  db: Kysely<AccessDatabase>,
  caller: Principal,
  filter: RequestFilter,
  limit: number,
  pageToken: string,
): Promise<{ views: RequestView[]; nextPageToken: string }> {
  const partnerId = partnerScope(caller, filter.partnerId, 'requests');
  let query = db.selectFrom('access_requests').selectAll('access_requests');
  if (partnerId) query = query.where('partner_id', '=', partnerId);
  if (filter.approver) {
    const approver = filter.approver;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('decisions as d')
          .select('d.request_id')
          .whereRef('d.request_id', '=', 'access_requests.id')
          .where('d.approver', '=', approver),
      ),
    );
  }
  if (filter.since) query = query.where('created_at', '>=', filter.since);
  if (filter.until) query = query.where('created_at', '<', filter.until);
  const after = afterPageToken('created_at', pageToken);
  if (after) query = query.where(after);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const { page, nextPageToken } = paginate(rows, limit, (r) => BigInt(r.created_at.getTime()));
  return { views: await requestViews(db, page, caller), nextPageToken };
}

/**
 * Rows with their decisions and the revocation covering each credential; the token only
 * for the partner the credential is for.
 */
export async function requestViews(
  db: Kysely<AccessDatabase>,
  rows: readonly RequestRow[],
  caller: Principal,
): Promise<RequestView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const decisions = await db
    .selectFrom('decisions')
    .selectAll()
    .where('request_id', 'in', ids)
    .orderBy('at')
    .execute();
  const tokens = await db
    .selectFrom('credentials')
    .select(['request_id', 'token'])
    .where('request_id', 'in', ids)
    .execute();
  const credentialIds = rows.flatMap((r) => (r.credential_id ? [r.credential_id] : []));
  const revocations = await revocationsOf(db, credentialIds);
  return rows.map((row) => ({
    row,
    decisions: decisions.filter((d) => d.request_id === row.id),
    token:
      caller.kind === 'partner' && caller.id === row.partner_id
        ? tokens.find((t) => t.request_id === row.id)?.token
        : undefined,
    revocation: row.credential_id ? revocations.get(row.credential_id) : undefined,
  }));
}
