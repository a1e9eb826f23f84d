import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** A finding change to record: the finding, the event that changed it, what it did. */
export interface FindingChangeRow {
  readonly finding_id: string;
  readonly origin: string;
  readonly seq: bigint;
  readonly change: 'created' | 'updated' | 'commented';
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

/** Up to `limit` finding changes after `position`, in position order. */
export function findingChangesAfter(db: Db, position: bigint, limit: number) {
  return db
    .selectFrom('finding_changes')
    .selectAll()
    .where('position', '>', position)
    .orderBy('position')
    .limit(limit)
    .execute();
}

/** The position of the last finding change recorded here; 0 before the first. */
export async function lastFindingChange(db: Db): Promise<bigint> {
  const { last } = await db
    .selectFrom('finding_changes')
    .select((eb) => eb.fn.max('position').as('last'))
    .executeTakeFirstOrThrow();
  return last === null ? 0n : BigInt(last);
}
