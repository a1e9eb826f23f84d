import type { Kysely } from 'kysely';
import {
  fieldWrites,
  insertFieldWrite,
  setOverwritten,
  type WriteClock,
} from '../queries/finding-writes.js';
import type { RegistryDatabase } from '../schema.js';

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
  tx: Kysely<RegistryDatabase>,
  findingId: string,
  field: string,
  write: WriteClock,
  seen: WriteClock,
): Promise<void> {
  await insertFieldWrite(tx, findingId, field, write, seen);
  const writes = await fieldWrites(tx, findingId, field);
  const key = (w: WriteClock) => `${w.hlc}/${w.origin}`;
  const seenKeys = new Set(writes.map((w) => key({ hlc: w.seen_hlc, origin: w.seen_origin })));
  const winner = writes.reduce((a, b) => (later(b, a) ? b : a));
  for (const w of writes) {
    const conflict = w !== winner && !seenKeys.has(key(w));
    await setOverwritten(tx, findingId, w, field, conflict);
  }
}

/** True when `a` is ordered after `b` by (HLC, origin): the last-writer-wins order. */
export function later(a: WriteClock, b: WriteClock): boolean {
  return a.hlc > b.hlc || (a.hlc === b.hlc && a.origin > b.origin);
}
