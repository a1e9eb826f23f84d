import {
  consistencyProof,
  formatCheckpoint,
  type NoteSigner,
  signNote,
  treeRoot,
} from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import { LogChanges } from '../log-changes.js';
import type { RegistryDatabase } from '../schema.js';
import { logHashReader } from './log-tree-store.js';

/** A signed checkpoint of this center's log, as stored and served. */
export interface SignedCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  /** The whole signed note (c2sp.org/tlog-checkpoint in c2sp.org/signed-note). */
  readonly note: string;
}

/** What a center needs to sign checkpoints of its own log. */
export interface CheckpointPublisherOptions {
  readonly db: Kysely<RegistryDatabase>;
  /** The center id: the origin of its events, and of its log in `log_nodes`. */
  readonly center: string;
  /** The key that signs, named after the log's origin line (`<federation>/<center>`). */
  readonly signer: NoteSigner;
  readonly changes: LogChanges;
  /** Least time between two checkpoints; a grown log is signed at most this long after. */
  readonly intervalMs: number;
  readonly onError: (err: unknown) => void;
}

/**
 * Signs a checkpoint of the center's own log each time it has grown, at most one per
 * interval and never two for one size (the size is the stored checkpoint's key, so two
 * registry processes of one center store one). Runs from `start()` until `stop()`.
 */
export class CheckpointPublisher {
  readonly #stop = new AbortController();
  /** Wakes whoever follows the center's checkpoints (its cosignature gathering) on a new one. */
  readonly published = new LogChanges();
  #running: Promise<void> | undefined;

  constructor(private readonly options: CheckpointPublisherOptions) {}

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** The latest checkpoint stored, signed at start if the log has none yet. */
  async latest(): Promise<SignedCheckpoint | undefined> {
    const row = await this.options.db
      .selectFrom('log_checkpoints')
      .select(['size', 'root', 'note'])
      .where('origin', '=', this.options.center)
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { size: Number(row.size), root: row.root, note: row.note };
  }

  /** Signs and stores a checkpoint if the log grew past the latest; returns what is latest. */
  async publish(): Promise<SignedCheckpoint> {
    const { db, center, signer } = this.options;
    const head = await db
      .selectFrom('log_heads')
      .select('seq')
      .where('origin', '=', center)
      .executeTakeFirst();
    const size = Number(head?.seq ?? 0n);
    const latest = await this.latest();
    if (latest !== undefined && latest.size >= size) return latest;
    const root = await treeRoot(size, logHashReader(db, center));
    const text = formatCheckpoint({ origin: signer.name, size, root, extensions: [] });
    const note = await signNote(text, [signer]);
    await db
      .insertInto('log_checkpoints')
      .values({ origin: center, size: BigInt(size), root, note })
      .onConflict((oc) => oc.columns(['origin', 'size']).doNothing())
      .execute();
    this.published.committed();
    return { size, root, note };
  }

  /** The consistency proof between two sizes of the center's log, from stored hashes. */
  prove(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    return consistencyProof(oldSize, newSize, logHashReader(this.options.db, this.options.center));
  }

  async #run(): Promise<void> {
    const { changes, intervalMs, onError } = this.options;
    const signal = this.#stop.signal;
    const watch = changes.follow(signal);
    while (!signal.aborted) {
      const woken = watch.armed();
      try {
        await this.publish();
      } catch (err) {
        if (!signal.aborted) onError(err);
      }
      await sleep(intervalMs, signal);
      await woken;
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
