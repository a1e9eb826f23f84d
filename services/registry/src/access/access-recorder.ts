import { create } from '@bufbuild/protobuf';
import { type AccessUsed, AccessUsedSchema } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import type { EventLog } from '../event-log.js';
import type { RegistryDatabase } from '../schema.js';

/** One partner call to record: the event's fields and where its body may be held. */
export interface AccessUse {
  readonly use: Omit<AccessUsed, '$typeName' | '$unknown'>;
  readonly residency: readonly string[];
}

interface Pending extends AccessUse {
  resolve(): void;
  reject(err: unknown): void;
}

/** At most this many AccessUsed events go into one transaction. */
const MAX_BATCH = 256;

/**
 * Appends AccessUsed events with group commit: calls that finish while a batch is being
 * committed, or while its transaction waits for a connection or the log head, join the next
 * one, which appends all of them in one transaction. Under load a transaction carries many
 * records, so recording costs a fraction of a commit per call; each call still waits until
 * its own record is durable.
 */
export class AccessRecorder {
  readonly #pending: Pending[] = [];
  #draining: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly log: EventLog,
  ) {}

  /** Resolves once the call's AccessUsed event is committed to this center's log. */
  record(entry: AccessUse): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ...entry, resolve, reject });
      if (!this.#draining) this.#draining = this.#drain();
    });
  }

  /** Waits until every record taken so far is committed (or failed). */
  async settled(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    // Let the calls handled in this turn of the event loop join the first batch: on PGlite
    // a whole call, its read and a commit can run without yielding to I/O, so waiting a
    // microtask only would commit every record alone.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      let batch: Pending[] = [];
      try {
        // The batch is taken once the log head is locked, not before: the wait for the
        // connection (PGlite has one) and for the lock is where calls pile up to join it.
        await this.log.transact(this.db, (tx) =>
          this.log.appendAll(tx, () => {
            batch = this.#pending.splice(0, MAX_BATCH);
            return batch.map(eventOf);
          }),
        );
        for (const entry of batch) entry.resolve();
      } catch (err) {
        // A transaction that failed to start took no batch: fail the oldest waiting calls.
        if (batch.length === 0) batch = this.#pending.splice(0, MAX_BATCH);
        for (const entry of batch) entry.reject(err);
      }
    }
    this.#draining = undefined;
  }
}

/** The AccessUsed event of one recorded call. */
function eventOf(entry: AccessUse) {
  return {
    actor: entry.use.principal,
    change: { case: 'accessUsed' as const, value: create(AccessUsedSchema, entry.use) },
    residency: entry.residency,
  };
}
