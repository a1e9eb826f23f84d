import type { ChunkStore } from '@vitrine/chunks';
import { VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import { artifactContent } from './artifact-content.js';
import { markAvailable, recordChunks, refreshArtifactHoldings } from './artifact-store.js';
import type { PeerScope } from './replica.js';
import type { RegistryDatabase } from './schema.js';

/**
 * The artifact bytes side of replication: which chunks this center still lacks, taking a
 * chunk from a peer (verified against its digest before it is stored), completing
 * artifacts whose every chunk is held (whole content verified before they show as
 * available), and serving chunks to peers only where residency allows.
 */
export class ChunkReplica {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
  ) {}

  /**
   * Up to `limit` chunks this center lacks for artifacts still replicating here. A chunk
   * already in the store but not yet recorded (a transfer cut off between the two) is
   * verified and recorded instead of fetched again (unless `peek`, which only counts).
   */
  async missing(limit: number, options: { peek?: boolean } = {}): Promise<Uint8Array[]> {
    if (options.peek) return this.#unrecorded(limit);
    const lacking: Uint8Array[] = [];
    for (const digest of await this.#unrecorded(limit)) {
      if (await this.store.has(digest)) await this.receive(digest, await this.store.read(digest));
      else lacking.push(digest);
    }
    return lacking;
  }

  async #unrecorded(limit: number): Promise<Uint8Array[]> {
    const rows = await this.db
      .selectFrom('artifact_chunks as ac')
      .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
      .leftJoin('chunks as c', 'c.digest', 'ac.digest')
      .select('ac.digest')
      .distinct()
      .where('a.state', '=', 'replicating')
      .where('c.digest', 'is', null)
      .limit(limit)
      .execute();
    return rows.map((r) => r.digest);
  }

  /**
   * Stores a chunk a peer sent (`data_loss` if it does not hash to `digest`; a chunk already
   * held is not rewritten) and updates the holdings of every artifact that uses it. A crash
   * after the store and before the record only means the chunk is found again next time.
   */
  async receive(digest: Uint8Array, data: Uint8Array): Promise<void> {
    await this.store.put(data, digest);
    await this.store.sync();
    await this.db.transaction().execute(async (tx) => {
      await recordChunks(tx, [{ digest, size: data.length }]);
      // Chunks arrive from several peers at once: locking the artifacts' rows makes their
      // recounts take turns, so each sees the chunks the others recorded (READ COMMITTED).
      const users = await tx
        .selectFrom('artifacts')
        .select('id')
        .where('state', '=', 'replicating')
        .where('id', 'in', (eb) =>
          eb.selectFrom('artifact_chunks').select('artifact_id').where('digest', '=', digest),
        )
        .orderBy('id')
        .forUpdate()
        .execute();
      for (const { id } of users) await refreshArtifactHoldings(tx, id);
    });
  }

  /**
   * Verifies the whole content of every replicating artifact whose chunks are all held and
   * marks it available; returns their ids. One that fails stays replicating (`data_loss`
   * is reported through `onFailure`).
   */
  async complete(onFailure: (id: string, err: unknown) => void = () => {}): Promise<string[]> {
    const ready = await this.db
      .selectFrom('artifacts')
      .select(['id', 'chunk_count', 'content_digest'])
      .where('state', '=', 'replicating')
      .whereRef('bytes_held', '=', 'size')
      .execute();
    const done: string[] = [];
    for (const row of ready) {
      try {
        for await (const _ of artifactContent(this.db, this.store, row)) {
          // reading is verifying
        }
        await markAvailable(this.db, row.id);
        done.push(row.id);
      } catch (err) {
        onFailure(row.id, err);
      }
    }
    return done;
  }

  /**
   * A chunk for a peer: `permission_denied` unless an artifact using it may be held in the
   * peer's jurisdiction; undefined when this center does not hold it (yet).
   */
  async readFor(peer: PeerScope, digest: Uint8Array): Promise<Uint8Array | undefined> {
    const users = await this.db
      .selectFrom('artifact_chunks as ac')
      .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
      .select('a.residency')
      .where('ac.digest', '=', digest)
      .execute();
    if (users.length === 0) return undefined;
    if (!users.some((u) => u.residency.length === 0 || u.residency.includes(peer.jurisdiction))) {
      throw new VitrineError(
        'permission_denied',
        `chunk of an artifact that may not be held in ${peer.jurisdiction}`,
      );
    }
    if (!(await this.store.has(digest))) return undefined;
    return this.store.read(digest);
  }
}
