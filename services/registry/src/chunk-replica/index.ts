import type { ChunkPatch, ChunkStore } from '@vitrine/chunks';
import type { Kysely } from 'kysely';
import type { ArtifactArrivals } from '../artifact-arrivals.js';
import { anyReplicating } from '../queries/chunks.js';
import type { PeerScope } from '../replica.js';
import type { RegistryDatabase } from '../schema.js';
import type { ChunkBase } from './chunk-bases.js';
import type { ChunkReceipt } from './chunk-recorder.js';
import { completeArtifacts } from './completion.js';
import { ChunkIntake } from './intake.js';
import { ChunkPlanning } from './planning.js';
import { type ServedChunk, serveChunks } from './serving.js';

export type { ServedChunk } from './serving.js';

/**
 * The artifact bytes side of replication, in four parts: planning which chunks this center
 * still lacks (planning.ts), taking a chunk from a peer, verified against its digest before
 * it is stored (intake.ts), completing artifacts whose every chunk is held, whole content
 * verified before they show as available (completion.ts), and serving chunks to peers only
 * where residency allows (serving.ts).
 */
export class ChunkReplica {
  readonly #intake: ChunkIntake;
  readonly #planning: ChunkPlanning;
  /** `arrivals.count` when no artifact was found replicating here; -1 until one is looked for. */
  #idleAt = -1;

  /**
   * `arrivals`, shared with the replica that ingests events, lets an idle center skip its
   * queries on every commit of the log; without it, every call looks.
   */
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
    private readonly arrivals?: ArtifactArrivals,
  ) {
    this.#intake = new ChunkIntake(db, store);
    this.#planning = new ChunkPlanning(db, this.#intake);
  }

  /** Whether any artifact is replicating here (no query while none arrived since last seen). */
  async #anyReplicating(): Promise<boolean> {
    if (this.arrivals && this.#idleAt === this.arrivals.count) return false;
    const seen = this.arrivals?.count ?? -1;
    const any = await anyReplicating(this.db);
    if (!any) this.#idleAt = seen;
    return any;
  }

  /** Up to `limit` chunks this center lacks (see ChunkPlanning.missing). */
  async missing(limit: number, options: { peek?: boolean } = {}): Promise<Uint8Array[]> {
    if (!(await this.#anyReplicating())) return [];
    return this.#planning.missing(limit, options);
  }

  /** For chunks this center lacks, the bases peers may patch them from (ChunkPlanning). */
  basesFor(missing: readonly Uint8Array[]): Promise<Map<string, ChunkBase>> {
    return this.#planning.basesFor(missing);
  }

  /** Stores and records a chunk a peer sent (see ChunkIntake.receive). */
  receive(digest: Uint8Array, data: Uint8Array): ChunkReceipt {
    return this.#intake.receive(digest, data);
  }

  /** Stores a chunk a peer sent as a patch of `base` (see ChunkIntake.receivePatch). */
  receivePatch(digest: Uint8Array, base: ChunkBase, patch: ChunkPatch): ChunkReceipt {
    return this.#intake.receivePatch(digest, base, patch);
  }

  /** Records every chunk received so far now rather than with its group; resolves once done. */
  recordNow(): Promise<void> {
    return this.#intake.recordNow();
  }

  /**
   * Verifies the whole content of every replicating artifact whose chunks are all held and
   * marks it available; returns their ids (see completeArtifacts).
   */
  async complete(onFailure: (id: string, err: unknown) => void = () => {}): Promise<string[]> {
    if (!(await this.#anyReplicating())) return [];
    return completeArtifacts(this.db, this.store, onFailure);
  }

  /** The chunks a peer asks for, where residency allows (see serveChunks). */
  readManyFor(
    peer: PeerScope,
    digests: readonly Uint8Array[],
    bases: readonly (ChunkBase | undefined)[] = [],
  ): AsyncGenerator<ServedChunk> {
    return serveChunks(this.db, this.store, peer, digests, bases);
  }
}
