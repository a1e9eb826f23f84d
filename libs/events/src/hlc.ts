/**
 * Hybrid logical clock timestamps (Kulkarni et al., "Logical Physical Clocks", 2014),
 * packed into one uint64: milliseconds since the Unix epoch in the high 48 bits, a logical
 * counter in the low 16. Ordering by the packed value orders by (physical, logical), and
 * every center derives the same order from the same events.
 */
export type Hlc = bigint;

const LOGICAL_BITS = 16n;
const LOGICAL_MASK = (1n << LOGICAL_BITS) - 1n;

/** Packs a physical time (ms) and logical counter. */
export function packHlc(physicalMs: number, logical: number): Hlc {
  return (BigInt(physicalMs) << LOGICAL_BITS) | BigInt(logical);
}

/** The physical part of an HLC timestamp, as a Date. */
export function hlcToDate(hlc: Hlc): Date {
  return new Date(Number(hlc >> LOGICAL_BITS));
}

/**
 * The next timestamp after `last` at wall-clock time `nowMs`: the wall clock when it has
 * moved past `last`, else `last` plus one logical tick. Monotonic whatever the wall clock does.
 */
export function nextHlc(last: Hlc, nowMs: number): Hlc {
  const wall = packHlc(nowMs, 0);
  if (wall > last) return wall;
  if ((last & LOGICAL_MASK) === LOGICAL_MASK) return packHlc(Number(last >> LOGICAL_BITS) + 1, 0);
  return last + 1n;
}
