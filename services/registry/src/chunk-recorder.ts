import type { ChunkStore } from '@vitrine/chunks';
import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from './schema.js';

/** A chunk written to the store, to be recorded as held. */
export interface StoredChunk {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** Most chunks recorded in one transaction. */
const MOST_PER_GROUP = 512;

/**
 * Records chunks written to the chunk store as held, in groups (group commit): chunks
 * stored while a group is being recorded join the next one, so a fetch keeping several
 * chunks in flight pays one directory sync and one transaction per group, not per chunk.
 * A chunk is recorded only after the store's directory sync that makes its name durable
 * (a chunk recorded is a chunk that survives a crash), and `record` resolves only once
 * its group has committed.
 */
export class ChunkRecorder {
  #waiting: { chunk: StoredChunk; done: (err?: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
  ) {}

  /** Records a chunk `store.put` has written; resolves once that is committed. */
  record(chunk: StoredChunk): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ chunk, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#waiting.length > 0) {
      const group = this.#waiting.splice(0, MOST_PER_GROUP);
      try {
        await this.store.sync();
        await this.db.transaction().execute((tx) =>
          recordHeld(
            tx,
            group.map((g) => g.chunk),
          ),
        );
        for (const { done } of group) done();
      } catch (err) {
        for (const { done } of group) done(err);
      }
    }
    this.#flushing = undefined;
  }
}

/**
 * Records chunks as held (idempotent) and adds the bytes of those newly recorded to every
 * replicating artifact that uses them — once per use, as a recount would. Only the
 * transaction that records a chunk counts it, so concurrent ones never count it twice.
 */
async function recordHeld(tx: Kysely<RegistryDatabase>, chunks: readonly StoredChunk[]) {
  const recorded = await tx
    .insertInto('chunks')
    .values(chunks.map((c) => ({ digest: c.digest, size: c.size })))
    .onConflict((oc) => oc.column('digest').doNothing())
    .returning('digest')
    .execute();
  if (recorded.length === 0) return;
  const added = tx
    .selectFrom('artifact_chunks')
    .select(['artifact_id', sql<bigint>`sum(size)::int8`.as('bytes')])
    .where(
      'digest',
      'in',
      recorded.map((r) => r.digest),
    )
    .groupBy('artifact_id')
    .as('added');
  await tx
    .updateTable('artifacts')
    .from(added)
    .set((eb) => ({ bytes_held: eb('artifacts.bytes_held', '+', eb.ref('added.bytes')) }))
    .whereRef('artifacts.id', '=', 'added.artifact_id')
    .where('artifacts.state', '=', 'replicating')
    .execute();
}
