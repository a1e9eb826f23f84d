import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@vitrine/rpc';
import {
  formatAddCheckpoint,
  type NoteKey,
  parseTreeSize,
  TREE_SIZE_CONTENT_TYPE,
} from '@vitrine/tlog';
import type { SignedCheckpoint } from './checkpoint-publisher.js';
import type { CosignatureStore } from './cosignature-store.js';
import type { LogChanges } from './log-changes.js';

/** How long one add-checkpoint call to a witness may take. */
const CALL_TIMEOUT_MS = 10_000;
/** 409 answers followed in a row before the round counts as failed (sizes keep moving). */
const MAX_CONFLICTS = 3;

/** A witness: where it takes checkpoints, and the key its cosignatures verify with. */
export interface Witness {
  /** What logs and errors call it (a center id). */
  readonly id: string;
  /** Its `add-checkpoint` URL (c2sp.org/tlog-witness). */
  readonly url: string;
  readonly key: NoteKey;
}

/** The log whose checkpoints are cosigned: its latest, proofs, and a wake-up per new one. */
export interface WitnessedLog {
  /** Committed (woken) each time a checkpoint is signed. */
  readonly published: LogChanges;
  latest(): Promise<SignedCheckpoint | undefined>;
  /** The RFC 9162 consistency proof between two sizes, from stored hashes. */
  prove(oldSize: number, newSize: number): Promise<Uint8Array[]>;
}

/** Back-off while a witness fails: from `initialMs`, doubling up to `maxMs`. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Gathers cosignatures for a log's checkpoints from witnesses (C2SP tlog-witness
 * `add-checkpoint`), one loop per witness so a witness that is down delays no other. Each
 * loop wakes when the log signs a checkpoint and submits the latest only — sizes signed
 * meanwhile are skipped, never one request per size — with a consistency proof from the
 * size that witness last cosigned: known from the cosignatures kept (so a restart sends
 * nothing for a checkpoint already cosigned), else learnt from its 409 answer. It keeps
 * the cosignature returned once it verifies against the witness's key, and backs off
 * while the witness fails.
 */
export class CosignatureGatherer {
  readonly #stop = new AbortController();
  #running: Promise<unknown> | undefined;
  /** The last proof made, shared by the loops: they ask for the same sizes. */
  #proof: { readonly sizes: string; readonly proof: Promise<Uint8Array[]> } | undefined;
  /**
   * The read of the log's latest checkpoint under way, shared by the loops a commit woke
   * together: one query per checkpoint, not one per witness. Joined only while no commit
   * came after it began, so a loop never takes a read older than its wake-up.
   */
  #reading:
    | { readonly commits: number; readonly latest: Promise<SignedCheckpoint | undefined> }
    | undefined;

  constructor(
    private readonly log: WitnessedLog,
    private readonly cosignatures: CosignatureStore,
    private readonly witnesses: readonly Witness[],
    private readonly backoff: Backoff,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#running ??= Promise.all(this.witnesses.map((w) => this.#run(w, this.#stop.signal)));
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(witness: Witness, signal: AbortSignal): Promise<void> {
    const published = this.log.published.follow(signal);
    let delay = this.backoff.initialMs;
    let cosigned: number | undefined;
    let known: number | undefined;
    while (!signal.aborted) {
      const woken = published.armed();
      try {
        cosigned ??= (await this.cosignatures.lastCosigned(witness.key.name)) ?? -1;
        known ??= cosigned >= 0 ? cosigned : undefined;
        const latest = await this.#latest();
        if (latest !== undefined && latest.size !== cosigned) {
          known = await this.#cosign(witness, latest, known, signal);
          cosigned = latest.size;
        }
        delay = this.backoff.initialMs;
        await woken;
      } catch (err) {
        if (signal.aborted) break;
        known = undefined;
        this.logger.warn({ err: String(err), witness: witness.id }, 'checkpoint not cosigned');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }

  /** Gets `witness`'s cosignature of `checkpoint`; returns the size the witness now holds. */
  async #cosign(
    witness: Witness,
    checkpoint: SignedCheckpoint,
    known: number | undefined,
    signal: AbortSignal,
  ): Promise<number> {
    let oldSize = known ?? 0;
    for (let conflicts = 0; conflicts <= MAX_CONFLICTS; conflicts++) {
      if (oldSize > checkpoint.size) {
        throw new Error(
          `${witness.id}'s witness cosigned size ${oldSize} of this log, beyond its latest checkpoint (${checkpoint.size})`,
        );
      }
      const proof =
        oldSize > 0 && oldSize < checkpoint.size ? await this.#prove(oldSize, checkpoint.size) : [];
      const res = await fetch(witness.url, {
        method: 'POST',
        body: formatAddCheckpoint({ oldSize, proof, note: checkpoint.note }),
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
      });
      const body = await res.text();
      if (res.status === 200) {
        const kept = await this.cosignatures.add(checkpoint, body, witness.key);
        if (kept === 0) throw new Error(`${witness.id}'s witness answered without its cosignature`);
        return checkpoint.size;
      }
      if (res.status === 409 && res.headers.get('content-type') === TREE_SIZE_CONTENT_TYPE) {
        const held = parseTreeSize(body);
        // Its size again: the same size with another root, which the witness keeps as evidence.
        if (held === oldSize) throw new Error(`${witness.id}'s witness refused size ${held}`);
        oldSize = held;
        continue;
      }
      throw new Error(`${witness.id}'s witness answered ${res.status}: ${body.trim()}`);
    }
    throw new Error(`${witness.id}'s witness kept answering 409`);
  }

  /** The log's latest checkpoint, read once for every loop asking between two commits. */
  #latest(): Promise<SignedCheckpoint | undefined> {
    const commits = this.log.published.commits;
    if (this.#reading?.commits !== commits) {
      const latest = this.log.latest();
      const reading = { commits, latest };
      // Only while under way: a loop retrying later reads again (another process may sign).
      const done = () => {
        if (this.#reading === reading) this.#reading = undefined;
      };
      latest.then(done, done);
      this.#reading = reading;
    }
    return this.#reading.latest;
  }

  /** The consistency proof between two sizes, made once for every loop asking for it. */
  #prove(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    const sizes = `${oldSize}/${newSize}`;
    if (this.#proof?.sizes !== sizes) {
      const proof = this.log.prove(oldSize, newSize);
      proof.catch(() => {
        if (this.#proof?.proof === proof) this.#proof = undefined;
      });
      this.#proof = { sizes, proof };
    }
    return this.#proof.proof;
  }
}
