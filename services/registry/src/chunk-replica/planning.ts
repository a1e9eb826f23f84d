import { toHex } from '@vitrine/crypto';
import type { Kysely } from 'kysely';
import { replicatingPairs, unrecordedInContentOrder } from '../queries/chunks.js';
import type { RegistryDatabase } from '../schema.js';
import { type ChunkBase, pairBases } from './chunk-bases.js';
import type { ChunkIntake } from './intake.js';

/**
 * What to fetch next: the chunks this center lacks for artifacts replicating here, and for
 * each, where one can be sent as a patch, the bytes held here it likely shares most with.
 */
export class ChunkPlanning {
  /** Bases of each replicating version's new chunks, by its id (computed once per version). */
  readonly #bases = new Map<string, Promise<Map<string, ChunkBase>>>();

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    /** Knows which chunks are stored but unrecorded, and which bases failed. */
    private readonly intake: ChunkIntake,
  ) {}

  /**
   * Up to `limit` chunks this center lacks for artifacts still replicating here (unless
   * `peek`, which only counts them). Chunks already in the store but not recorded (a
   * transfer cut off between the two) are first verified and recorded instead of fetched
   * again (see ChunkIntake.recordStored).
   *
   * They come in the order of the artifacts' content (oldest artifact first), so a peer
   * asked for them in that order reads runs of them with one read each, from packs that
   * hold an artifact's chunks in order, and this center's packs hold them in order too.
   */
  async missing(limit: number, options: { peek?: boolean } = {}): Promise<Uint8Array[]> {
    if (!options.peek) await this.intake.recordStored();
    const digests = await unrecordedInContentOrder(this.db, limit);
    // A chunk used more than once (within an artifact or by several) is fetched once.
    const seen = new Set<string>();
    return digests.flatMap((digest) => {
      const hex = toHex(digest);
      if (seen.has(hex)) return [];
      seen.add(hex);
      return [digest];
    });
  }

  /**
   * For chunks this center lacks, the bytes it holds that each likely shares most of its
   * own with: the run of chunks its run replaced in the version its artifact supersedes,
   * where that version is held here whole (alignBases). Peers may send such chunks as
   * patches (see ChunkPatch).
   */
  async basesFor(missing: readonly Uint8Array[]): Promise<Map<string, ChunkBase>> {
    const wanted = new Set(missing.map(toHex));
    const pairs = await replicatingPairs(this.db);
    const current = new Set(pairs.map((p) => p.next));
    for (const id of this.#bases.keys()) if (!current.has(id)) this.#bases.delete(id);
    const { unreadableBases, wholeOnly } = this.intake;
    const usable = (base: ChunkBase) => base.run.every((c) => !unreadableBases.has(toHex(c)));
    const bases = new Map<string, ChunkBase>();
    for (const pair of pairs) {
      let aligned = this.#bases.get(pair.next);
      if (aligned === undefined) {
        aligned = pairBases(this.db, pair);
        this.#bases.set(pair.next, aligned);
        aligned.catch(() => this.#bases.delete(pair.next));
      }
      for (const [hex, base] of await aligned) {
        if (wanted.has(hex) && !wholeOnly.has(hex) && usable(base)) bases.set(hex, base);
      }
    }
    return bases;
  }
}
