import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** A finding change to record: the finding, the event that changed it, what it did. */
export interface FindingChangeRow {
  readonly finding_id: string;
  readonly origin: string;
  readonly seq: bigint;
  readonly change: 'created' | 'updated' | 'commented';
  /** The finding's status and severity once changed (storage words). */
  readonly status: string;
  readonly severity: string;
  /** The finding once changed: a `Finding` message, protobuf binary. */
  readonly finding: Uint8Array;
}

/**
 * Records finding changes at the next positions, in the order given. The caller holds this
 * center's log-head lock (see recordFindingChanges).
 */
export async function insertFindingChanges(
  tx: Db,
  rows: readonly FindingChangeRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insertInto('finding_changes').values(rows).execute();
}

/**
 * Up to `limit` finding changes in (`after`, `upTo`], in position order, of findings left
 * in `status` and of `severity` when given.
 */
export function findingChangesIn(
  db: Db,
  after: bigint,
  upTo: bigint,
  limit: number,
  filter: { readonly status?: string; readonly severity?: string },
) {
  let query = db
    .selectFrom('finding_changes')
    .selectAll()
    .where('position', '>', after)
    .where('position', '<=', upTo);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.severity) query = query.where('severity', '=', filter.severity);
  return query.orderBy('position').limit(limit).execute();
}

/** The position of the last finding change recorded here; 0 before the first. */
export async function lastFindingChange(db: Db): Promise<bigint> {
  const { last } = await db
    .selectFrom('finding_changes')
    .select((eb) => eb.fn.max('position').as('last'))
    .executeTakeFirstOrThrow();
  return last === null ? 0n : BigInt(last);
}
