import type { ChunkStore } from '@vitrine/chunks';
import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from './schema.js';

/** A chunk written to the store, to be recorded as held. */
export interface StoredChunk {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** Most chunks recorded in one statement. */
const MOST_PER_GROUP = 512;
/** Longest a written chunk waits for others still being written to join its group. */
const MOST_WAIT_MS = 5;

/**
 * Writes chunks to the chunk store and records them as held, in groups (group commit):
 * chunks written at the same time share one directory sync and one statement, so a fetch
 * keeping several chunks in flight pays those once per group instead of once per chunk. A
 * group is recorded as soon as no other chunk is being written, or after a few
 * milliseconds. A chunk is recorded only after the store's directory sync that makes its
 * name durable (a chunk recorded survives a crash); `write` resolves once its group is
 * recorded.
 */
export class ChunkRecorder {
  #waiting: { chunk: StoredChunk; done: (err?: unknown) => void }[] = [];
  /** Chunks being written to the store, whose records will follow. */
  #writing = 0;
  #flushing = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
  ) {}

  /**
   * Writes a chunk with `put` (the store's, which verifies it), then records it. Not async:
   * `put` (and the bytes it holds) is let go once it has written, before the record.
   */
  write(chunk: StoredChunk, put: () => Promise<unknown>): Promise<void> {
    this.#writing++;
    return put()
      .finally(() => this.#writing--)
      .then(() => this.#record(chunk));
  }

  #record(chunk: StoredChunk): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ chunk, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.#schedule();
    });
  }

  /** Starts recording the waiting chunks now if nothing else is coming, else soon. */
  #schedule(): void {
    if (this.#flushing || this.#waiting.length === 0) return;
    if (this.#writing > 0 && this.#waiting.length < MOST_PER_GROUP) {
      this.#timer ??= setTimeout(() => this.#flush(), MOST_WAIT_MS);
      return;
    }
    void this.#flush();
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing) return;
    this.#flushing = true;
    const group = this.#waiting.splice(0, MOST_PER_GROUP);
    try {
      await this.store.sync();
      await recordHeld(
        this.db,
        group.map((g) => g.chunk),
      );
      for (const { done } of group) done();
    } catch (err) {
      for (const { done } of group) done(err);
    } finally {
      this.#flushing = false;
      this.#schedule();
    }
  }
}

/**
 * Records chunks as held (idempotent) and adds the bytes of those newly recorded to every
 * replicating artifact that uses them — once per use, as a recount would. One statement,
 * so one round trip and atomic without a transaction of its own; only the statement that
 * records a chunk counts it, so concurrent ones never count it twice.
 */
async function recordHeld(db: Kysely<RegistryDatabase>, chunks: readonly StoredChunk[]) {
  await db
    .with('recorded', (db) =>
      db
        .insertInto('chunks')
        .values(chunks.map((c) => ({ digest: c.digest, size: c.size })))
        .onConflict((oc) => oc.column('digest').doNothing())
        .returning('digest'),
    )
    .with('added', (db) =>
      db
        .selectFrom('artifact_chunks')
        .select(['artifact_id', sql<bigint>`sum(size)::int8`.as('bytes')])
        .where('digest', 'in', db.selectFrom('recorded').select('digest'))
        .groupBy('artifact_id'),
    )
    .updateTable('artifacts')
    .from('added')
    .set((eb) => ({ bytes_held: eb('artifacts.bytes_held', '+', eb.ref('added.bytes')) }))
    .whereRef('artifacts.id', '=', 'added.artifact_id')
    .where('artifacts.state', '=', 'replicating')
    .execute();
}
