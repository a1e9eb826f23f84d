import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase>;

/** A write's identity: the HLC and origin of the event that made it. */
export interface WriteClock {
  readonly hlc: bigint;
  readonly origin: string;
}

/** No earlier write: what the creation of a finding replaces. */
export const NO_WRITE: WriteClock = { hlc: 0n, origin: '' };

/**
 * Records one write of a finding field (the write `seen` is the one its author replaced)
 * and re-derives which writes of that field are conflicts. A write is a conflict when it
 * is not the winning value and no write saw it: it was replaced by a concurrent write.
 * The flags depend only on the set of writes, never on the order they arrived in, so every
 * center that holds the same events flags the same history entries.
 */
export async function recordFieldWrite(
  tx: Db,
  findingId: string,
  field: string,
  write: WriteClock,
  seen: WriteClock,
): Promise<void> {
  await tx
    .insertInto('finding_field_writes')
    .values({
      finding_id: findingId,
      field,
      hlc: write.hlc,
      origin: write.origin,
      seen_hlc: seen.hlc,
      seen_origin: seen.origin,
    })
    .onConflict((oc) => oc.columns(['finding_id', 'field', 'hlc', 'origin']).doNothing())
    .execute();
  await reflag(tx, findingId, field);
}

async function reflag(tx: Db, findingId: string, field: string): Promise<void> {
  const writes = await tx
    .selectFrom('finding_field_writes')
    .selectAll()
    .where('finding_id', '=', findingId)
    .where('field', '=', field)
    .execute();
  const key = (w: WriteClock) => `${w.hlc}/${w.origin}`;
  const seen = new Set(writes.map((w) => key({ hlc: w.seen_hlc, origin: w.seen_origin })));
  const winner = writes.reduce((a, b) => (later(b, a) ? b : a));
  for (const w of writes) {
    const conflict = w !== winner && !seen.has(key(w));
    await setFlag(tx, findingId, w, field, conflict);
  }
}

/** Adds or removes `field` in a history entry's overwritten fields, kept sorted. */
async function setFlag(tx: Db, findingId: string, w: WriteClock, field: string, on: boolean) {
  const without = sql<string[]>`array_remove(overwritten_fields, ${field})`;
  const next = on ? sql<string[]>`${without} || array[${field}]::text[]` : without;
  await tx
    .updateTable('finding_history')
    .set({
      overwritten_fields: sql<string[]>`array(select f from unnest(${next}) as f order by f)`,
    })
    .where('finding_id', '=', findingId)
    .where('hlc', '=', w.hlc)
    .where('origin', '=', w.origin)
    .execute();
}

/** True when `a` is ordered after `b` by (HLC, origin): the last-writer-wins order. */
export function later(a: WriteClock, b: WriteClock): boolean {
  return a.hlc > b.hlc || (a.hlc === b.hlc && a.origin > b.origin);
}
