import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** Records events stored but not applied, each awaiting its body or not. */
export async function insertUnapplied(
  tx: Db,
  rows: readonly { origin: string; seq: bigint; awaiting_body: boolean }[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insertInto('unapplied_events').values(rows).execute();
}

/** Notes that an unapplied event's body has arrived. */
export async function markBodyArrived(tx: Db, origin: string, seq: bigint): Promise<void> {
  await tx
    .updateTable('unapplied_events')
    .set({ awaiting_body: false })
    .where('origin', '=', origin)
    .where('seq', '=', seq)
    .execute();
}

/** The first `limit` unapplied events in this center's log order, with their bytes. */
export function unappliedInOrder(tx: Db, limit: number) {
  return tx
    .selectFrom('unapplied_events as u')
    .innerJoin('events as e', (join) =>
      join.onRef('e.origin', '=', 'u.origin').onRef('e.seq', '=', 'u.seq'),
    )
    .select(['u.origin', 'u.seq', 'u.awaiting_body', 'e.header', 'e.body'])
    .orderBy('e.position')
    .limit(limit)
    .execute();
}

/** Forgets unapplied events of one origin (they have been applied). */
export async function deleteUnapplied(
  tx: Db,
  origin: string,
  seqs: readonly bigint[],
): Promise<void> {
  await tx
    .deleteFrom('unapplied_events')
    .where('origin', '=', origin)
    .where('seq', 'in', [...seqs])
    .execute();
}

/** Events whose body this center awaits, oldest first (in log order), at most `limit`. */
export function awaitingBodies(db: Db, limit: number) {
  return db
    .selectFrom('unapplied_events as u')
    .innerJoin('events as e', (join) =>
      join.onRef('e.origin', '=', 'u.origin').onRef('e.seq', '=', 'u.seq'),
    )
    .select(['u.origin', 'u.seq', 'e.residency'])
    .where('u.awaiting_body', '=', true)
    .orderBy('e.position')
    .limit(limit)
    .execute();
}

/** How many events are stored here unapplied: awaiting their body, and held back behind. */
export async function unappliedCounts(db: Db): Promise<{ awaiting: bigint; heldBack: bigint }> {
  const rows = await db
    .selectFrom('unapplied_events')
    .select(['awaiting_body', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('awaiting_body')
    .execute();
  const count = (awaiting: boolean) =>
    BigInt(rows.find((r) => r.awaiting_body === awaiting)?.n ?? 0);
  return { awaiting: count(true), heldBack: count(false) };
}

/** Origin and sequence of every event whose body this center awaits. */
export function awaitedEvents(db: Db) {
  return db
    .selectFrom('unapplied_events')
    .select(['origin', 'seq'])
    .where('awaiting_body', '=', true)
    .execute();
}
