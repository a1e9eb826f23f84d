import { formatCheckpoint, type NoteSigner, signNote } from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import { LogChanges } from './log-changes.js';
import type { LogStore, StoreDb } from './log-store.js';

/** A signed checkpoint of a log, as stored and served. */
export interface SignedCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  /** The whole signed note (c2sp.org/tlog-checkpoint in c2sp.org/signed-note). */
  readonly note: string;
}

export interface CheckpointPublisherOptions {
  readonly db: StoreDb;
  readonly store: LogStore;
  /** The key that signs, named after the log's origin line (it is the checkpoint's origin). */
  readonly signer: NoteSigner;
  /** Least time between two checkpoints; a grown log is signed at most this long after. */
  readonly intervalMs: number;
  readonly onError: (err: unknown) => void;
}

type LooseDb = Kysely<Record<string, Record<string, unknown>>>;

/**
 * Signs a checkpoint of a log each time it has grown, at most one per interval and never
 * two for one size: the size is the stored checkpoint's key, so several processes serving
 * one log store one. Runs from `start()` until `stop()`, looking at the log's size every
 * interval (one row read), so growth committed by any process is signed.
 */
export class CheckpointPublisher {
  readonly #stop = new AbortController();
  /** Wakes whoever follows the log's checkpoints (its cosignature gathering) on a new one. */
  readonly published = new LogChanges();
  readonly #db: LooseDb;
  readonly #col: string;
  #running: Promise<void> | undefined;
  #latest: SignedCheckpoint | undefined;

  constructor(private readonly options: CheckpointPublisherOptions) {
    this.#db = options.db as LooseDb;
    this.#col = options.store.tables.logColumn ?? 'log';
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** The latest checkpoint stored; undefined before the first is signed. */
  async latest(): Promise<SignedCheckpoint | undefined> {
    const { store } = this.options;
    const row = await this.#db
      .selectFrom(store.tables.checkpoints)
      .select(['size', 'root', 'note'])
      .where(this.#col, '=', store.log)
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const latest = {
      size: Number(row.size as bigint),
      root: row.root as Uint8Array,
      note: row.note as string,
    };
    if (this.#latest === undefined || latest.size > this.#latest.size) this.#latest = latest;
    return latest;
  }

  /** The checkpoint stored for `size`, if one was signed. */
  async at(size: number): Promise<SignedCheckpoint | undefined> {
    const { store } = this.options;
    const row = await this.#db
      .selectFrom(store.tables.checkpoints)
      .select(['root', 'note'])
      .where(this.#col, '=', store.log)
      .where('size', '=', BigInt(size))
      .executeTakeFirst();
    return row && { size, root: row.root as Uint8Array, note: row.note as string };
  }

  /**
   * Signs and stores a checkpoint when the log grew past the latest (or has none, as a new
   * log at its first start); returns the latest checkpoint either way.
   */
  async publish(): Promise<SignedCheckpoint> {
    const { store, signer } = this.options;
    const size = await store.size(this.options.db);
    const latest =
      this.#latest !== undefined && this.#latest.size >= size ? this.#latest : await this.latest();
    if (latest !== undefined && latest.size >= size) return latest;
    const root = await store.root(size, this.options.db);
    const text = formatCheckpoint({ origin: signer.name, size, root, extensions: [] });
    const note = await signNote(text, [signer]);
    await this.#db
      .insertInto(store.tables.checkpoints)
      .values({ [this.#col]: store.log, size: BigInt(size), root, note })
      .onConflict((oc) => oc.columns([this.#col, 'size']).doNothing())
      .execute();
    // Another process may have signed this size first: serve the one stored.
    const stored = (await this.at(size)) ?? { size, root, note };
    if (this.#latest === undefined || stored.size > this.#latest.size) this.#latest = stored;
    this.published.committed();
    return stored;
  }

  /** The consistency proof between two sizes of the log, from stored hashes. */
  prove(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    return this.options.store.consistencyProof(oldSize, newSize);
  }

  async #run(): Promise<void> {
    const { intervalMs, onError } = this.options;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.publish();
      } catch (err) {
        if (!signal.aborted) onError(err);
      }
      await sleep(intervalMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
