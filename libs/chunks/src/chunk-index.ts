/** Where a chunk's bytes are. */
export interface Location {
  readonly pack: number;
  readonly offset: number;
  readonly length: number;
}

const DIGEST_BYTES = 32;
const INITIAL_SLOTS = 1024;
/** Slots used, at most, before the table doubles (load factor 3/4). */
const MAX_LOAD = 0.75;

/**
 * A pack store's index: chunk digest (hex) → where its bytes are, in flat typed arrays (an
 * open-addressing table with linear probing, keyed by the digest's first four bytes, which
 * SHA-256 makes uniform). About 50 bytes a slot, 65–130 per chunk with the table between
 * half and three quarters full, where a Map of hex strings to objects held about 165 — and
 * a center's store, indexed whole in memory, grows with every artifact it holds. The full
 * digest is kept and compared, so two chunks never share an entry, however alike.
 */
export class ChunkIndex {
  #count = 0;
  #table: Table;
  /** The digest looked up, as bytes: one buffer reused by every call. */
  readonly #probe = Buffer.alloc(DIGEST_BYTES);

  constructor(slots = INITIAL_SLOTS) {
    if (!Number.isInteger(Math.log2(slots))) throw new RangeError('slots: a power of two');
    this.#table = newTable(slots);
  }

  /** Chunks indexed. */
  get size(): number {
    return this.#count;
  }

  has(hex: string): boolean {
    return this.#find(hex) >= 0;
  }

  get(hex: string): Location | undefined {
    const slot = this.#find(hex);
    if (slot < 0) return undefined;
    const t = this.#table;
    return {
      pack: t.packs[slot] as number,
      offset: t.offsets[slot] as number,
      length: t.lengths[slot] as number,
    };
  }

  /** Indexes a chunk, or moves one already indexed. */
  set(hex: string, { pack, offset, length }: Location): void {
    let slot = this.#find(hex);
    if (slot < 0) {
      if (this.#count + 1 > (this.#table.mask + 1) * MAX_LOAD) this.#grow();
      slot = this.#free(this.#probe, 0);
      this.#probe.copy(this.#table.keys, slot * DIGEST_BYTES);
      this.#table.used[slot] = 1;
      this.#count++;
    }
    const t = this.#table;
    t.packs[slot] = pack;
    t.offsets[slot] = offset;
    t.lengths[slot] = length;
  }

  /**
   * Removes a chunk; false if it was not indexed. Entries after it in its probe run move
   * back into the gap (no tombstones), so lookups stay as short as if it was never there.
   */
  delete(hex: string): boolean {
    let gap = this.#find(hex);
    if (gap < 0) return false;
    const t = this.#table;
    for (let next = (gap + 1) & t.mask; t.used[next] === 1; next = (next + 1) & t.mask) {
      const home = homeSlot(t, t.keys, next * DIGEST_BYTES);
      // The entry at `next` may fill the gap unless its home lies after the gap, up to it.
      const homeAfterGap = gap <= next ? home > gap && home <= next : home > gap || home <= next;
      if (homeAfterGap) continue;
      copyEntry(t, next, t, gap);
      gap = next;
    }
    t.used[gap] = 0;
    this.#count--;
    return true;
  }

  /** The slot holding `hex`, or -1; leaves its bytes in #probe. */
  #find(hex: string): number {
    if (this.#probe.write(hex, 'hex') !== DIGEST_BYTES) {
      throw new RangeError('chunk index: a digest is 64 hex characters');
    }
    const t = this.#table;
    for (let slot = homeSlot(t, this.#probe, 0); t.used[slot] === 1; slot = (slot + 1) & t.mask) {
      if (this.#probe.compare(t.keys, slot * DIGEST_BYTES, (slot + 1) * DIGEST_BYTES) === 0) {
        return slot;
      }
    }
    return -1;
  }

  /** The first free slot of the probe run of the digest at `keys[at…]`. */
  #free(keys: Buffer, at: number): number {
    const t = this.#table;
    let slot = homeSlot(t, keys, at);
    while (t.used[slot] === 1) slot = (slot + 1) & t.mask;
    return slot;
  }

  /** Doubles the table, placing every entry anew (entries are distinct: no comparing). */
  #grow(): void {
    const old = this.#table;
    this.#table = newTable((old.mask + 1) * 2);
    for (let from = 0; from <= old.mask; from++) {
      if (old.used[from] === 1)
        copyEntry(old, from, this.#table, this.#free(old.keys, from * DIGEST_BYTES));
    }
  }
}

/** The table's columns, one entry per slot. */
interface Table {
  readonly mask: number;
  readonly keys: Buffer;
  readonly used: Uint8Array;
  readonly packs: Uint32Array;
  readonly offsets: Float64Array;
  readonly lengths: Uint32Array;
}

function newTable(slots: number): Table {
  return {
    mask: slots - 1,
    keys: Buffer.alloc(slots * DIGEST_BYTES),
    used: new Uint8Array(slots),
    packs: new Uint32Array(slots),
    offsets: new Float64Array(slots),
    lengths: new Uint32Array(slots),
  };
}

/** Where a probe for the digest at `keys[at…]` starts in `table`. */
function homeSlot(table: Table, keys: Buffer, at: number): number {
  return keys.readUInt32BE(at) & table.mask;
}

function copyEntry(from: Table, slot: number, to: Table, into: number): void {
  from.keys.copy(to.keys, into * DIGEST_BYTES, slot * DIGEST_BYTES, (slot + 1) * DIGEST_BYTES);
  to.used[into] = 1;
  to.packs[into] = from.packs[slot] as number;
  to.offsets[into] = from.offsets[slot] as number;
  to.lengths[into] = from.lengths[slot] as number;
}
