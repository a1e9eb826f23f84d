import type { ChunkStore } from '@vitrine/chunks';
import type { Kysely } from 'kysely';
import { recordHeld, type StoredChunk } from '../queries/chunks.js';
import type { RegistryDatabase } from '../schema.js';

/**
 * A chunk handed to the recorder: `written` once it is in the store (its bytes may then be
 * let go), `recorded` once it is also recorded as held. Both reject if it could not be
 * stored; `recorded` also if its record failed. Either may be left unawaited.
 */
export interface ChunkReceipt {
  readonly written: Promise<void>;
  readonly recorded: Promise<void>;
}

/** Most chunks recorded in one statement. */
const MOST_PER_GROUP = 512;
/**
 * Least time between two statements, unless a group is full or `recordNow` is called: a
 * transfer's chunks are recorded a group at a time (about 80 statements per 200 MiB
 * received, where recording each group as soon as no chunk was being written made 400),
 * while a chunk arriving alone is recorded at once.
 */
export const GROUP_INTERVAL_MS = 50;

/** A chunk written and waiting for its group's record, with who to tell when it is. */
interface Waiting {
  readonly chunk: StoredChunk;
  readonly done: (err?: unknown) => void;
}

/**
 * Writes chunks to the chunk store and records them as held, in groups (group commit):
 * chunks written close together share one sync of the store and one statement. A chunk is
 * recorded only after the store's sync that makes it durable (a chunk recorded survives a
 * crash), and a writer need not wait for the record: `write` says when each is done.
 */
export class ChunkRecorder {
  #waiting: Waiting[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the last group started being recorded (ms, performance.now). */
  #lastFlush = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly store: ChunkStore,
  ) {}

  /**
   * Writes a chunk with `put` (the store's, which verifies it), then records it. Not async:
   * `put` (and the bytes it holds) is let go once it has written, before the record.
   */
  write(chunk: StoredChunk, put: () => Promise<unknown>): ChunkReceipt {
    const written = put().then(() => undefined);
    const recorded = written.then(() => this.#record(chunk));
    // Awaiting either one is enough: a failure is reported through the one awaited.
    recorded.catch(() => undefined);
    return { written, recorded };
  }

  /** Records every chunk written so far without waiting for its group to fill. */
  async recordNow(): Promise<void> {
    while (this.#waiting.length > 0 || this.#flushing) {
      await (this.#flushing ?? this.#flush());
    }
  }

  #record(chunk: StoredChunk): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ chunk, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.#schedule();
    });
  }

  /** Starts recording the waiting chunks now if the group is full or overdue, else soon. */
  #schedule(): void {
    if (this.#flushing || this.#waiting.length === 0) return;
    const due = this.#lastFlush + GROUP_INTERVAL_MS - performance.now();
    if (this.#waiting.length < MOST_PER_GROUP && due > 0) {
      this.#timer ??= setTimeout(() => void this.#flush(), due);
      return;
    }
    void this.#flush();
  }

  #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing) return this.#flushing;
    this.#lastFlush = performance.now();
    const group = this.#waiting.splice(0, MOST_PER_GROUP);
    this.#flushing = this.#recordGroup(group).finally(() => {
      this.#flushing = undefined;
      this.#schedule();
    });
    return this.#flushing;
  }

  async #recordGroup(group: readonly Waiting[]): Promise<void> {
    try {
      await this.store.sync();
      await recordHeld(
        this.db,
        group.map((g) => g.chunk),
      );
      for (const { done } of group) done();
    } catch (err) {
      for (const { done } of group) done(err);
    }
  }
}
