import { metrics } from '@opentelemetry/api';
import { bytesEqual } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import {
  type Checkpoint,
  LogError,
  noteKey,
  openNote,
  parseCheckpoint,
  treeRoot,
  verifyConsistency,
} from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import type { LogEvidenceTable, RegistryDatabase } from '../schema.js';
import type { ForkedOrigins } from './forked-origins.js';
import { logHashReader } from './log-tree-store.js';

const logEvidenceFound = metrics
  .getMeter('vitrine-registry')
  .createCounter('vitrine.registry.log_evidence', {
    description: 'evidence kept that a peer’s transparency log forked, went back or disagrees',
  });

/** Asks the origin for the consistency proof between two sizes of its log. */
export type ConsistencyProver = (oldSize: number, newSize: number) => Promise<Uint8Array[]>;

/** What a forked or rolled-back log left behind: both signed statements where there are two. */
export interface LogEvidence {
  readonly origin: string;
  readonly kind: LogEvidenceTable['kind'];
  readonly message: string;
  readonly note: string;
  readonly otherNote: string | undefined;
  readonly observedAt: Date;
  /** When an operator resumed taking the origin's events despite it, and who. */
  readonly resumedAt?: Date | undefined;
  readonly resumedBy?: string | undefined;
}

/** How a checkpoint fared: taken (new or seen before), or the evidence it produced. */
export type Observation =
  | { readonly outcome: 'taken'; readonly size: number }
  | { readonly outcome: 'evidence'; readonly evidence: LogEvidence };

/** A checkpoint as stored: the origin's statement, and the note that signed it. */
interface Seen {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
}

/**
 * Holds every peer's log to what it signed. A checkpoint of origin X is taken only when X's
 * key signed it, and is then checked, in this order, against:
 * 1. a checkpoint X signed before for the same size: another root is a **fork**;
 * 2. when it is X's latest, the largest X signed before: a smaller size is a **rollback**;
 * 3. the events of X this center holds: the root of its own copy of X's tree at that size,
 *    or, if it holds fewer, a consistency proof from its own tree to the checkpoint; and the
 *    last checkpoint seen, by a consistency proof: a mismatch is **inconsistent** history.
 * Evidence keeps both signed statements, and an origin with evidence is forked — its events
 * refused — until an operator resumes it.
 */
export class CheckpointWitness {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    /** The federation's name: origin lines are `<federation>/<center>`. */
    private readonly federation: string,
    private readonly originKey: (origin: string) => Uint8Array | undefined,
    /** Where an origin found forked goes, so that its events are refused. */
    private readonly forked: ForkedOrigins,
  ) {}

  /** Checks and keeps a checkpoint of `origin`; `latest` when the origin served it as such. */
  async observe(
    origin: string,
    note: string,
    latest: boolean,
    prove: ConsistencyProver,
  ): Promise<Observation> {
    const checkpoint = await this.#open(origin, note);
    const evidence = await this.#contradiction(origin, checkpoint, note, latest, prove);
    if (evidence !== undefined)
      return { outcome: 'evidence', evidence: await this.#keep(evidence) };
    await this.db
      .insertInto('log_checkpoints')
      .values({ origin, size: BigInt(checkpoint.size), root: checkpoint.root, note })
      .onConflict((oc) => oc.columns(['origin', 'size']).doNothing())
      .execute();
    return { outcome: 'taken', size: checkpoint.size };
  }

  /** The largest checkpoint of `origin` taken so far, if any. */
  async latestSeen(origin: string): Promise<{ size: number; note: string } | undefined> {
    const seen = await this.#seen(origin, 'largest', 0);
    return seen && { size: seen.size, note: seen.note };
  }

  /** Evidence kept against `origin` (every origin when undefined), oldest first. */
  async evidence(origin?: string): Promise<LogEvidence[]> {
    let query = this.db.selectFrom('log_evidence').selectAll().orderBy('id');
    if (origin !== undefined) query = query.where('origin', '=', origin);
    const rows = await query.execute();
    return rows.map((r) => ({
      origin: r.origin,
      kind: r.kind,
      message: r.message,
      note: r.note,
      otherNote: r.other_note ?? undefined,
      observedAt: r.observed_at,
      resumedAt: r.resumed_at ?? undefined,
      resumedBy: r.resumed_by ?? undefined,
    }));
  }

  async #open(origin: string, note: string): Promise<Checkpoint> {
    const publicKey = this.originKey(origin);
    if (publicKey === undefined) {
      throw new VitrineError('failed_precondition', `no key is known for center ${origin}`);
    }
    const name = `${this.federation}/${origin}`;
    const checkpoint = parseCheckpoint((await openNote(note, [noteKey(name, publicKey)])).text);
    if (checkpoint.origin !== name) {
      throw new LogError('checkpoint', `checkpoint of ${checkpoint.origin}, not ${name}`);
    }
    return checkpoint;
  }

  async #contradiction(
    origin: string,
    checkpoint: Checkpoint,
    note: string,
    latest: boolean,
    prove: ConsistencyProver,
  ): Promise<Omit<LogEvidence, 'observedAt'> | undefined> {
    const evidence = (kind: LogEvidence['kind'], message: string, other?: Seen) => ({
      origin,
      kind,
      message,
      note,
      otherNote: other?.note,
    });
    const same = await this.#seen(origin, 'size', checkpoint.size);
    if (same !== undefined && !bytesEqual(same.root, checkpoint.root)) {
      return evidence('fork', `${origin} signed two roots for size ${checkpoint.size}`, same);
    }
    const previous = await this.#seen(origin, 'largest', checkpoint.size);
    if (latest && previous !== undefined && previous.size > checkpoint.size) {
      const message = `${origin}'s log went back from ${previous.size} to ${checkpoint.size} entries`;
      return evidence('rollback', message, previous);
    }
    const held = await this.#heldSize(origin);
    const reader = logHashReader(this.db, origin);
    try {
      if (held >= checkpoint.size) {
        const root = await treeRoot(checkpoint.size, reader);
        if (!bytesEqual(root, checkpoint.root)) {
          const message = `${origin}'s checkpoint at ${checkpoint.size} disagrees with the events of ${origin} held here`;
          return evidence('inconsistent', message);
        }
      } else if (held > 0) {
        const proof = await prove(held, checkpoint.size);
        verifyConsistency(
          held,
          checkpoint.size,
          proof,
          await treeRoot(held, reader),
          checkpoint.root,
        );
      }
      const below = await this.#seen(origin, 'below', checkpoint.size);
      if (below !== undefined && below.size > held) {
        const proof = await prove(below.size, checkpoint.size);
        verifyConsistency(below.size, checkpoint.size, proof, below.root, checkpoint.root);
      }
    } catch (err) {
      if (!(err instanceof LogError)) throw err;
      const message = `${origin}'s checkpoint at ${checkpoint.size} is not consistent with what it signed and sent before: ${err.message}`;
      return evidence('inconsistent', message, await this.#seen(origin, 'below', checkpoint.size));
    }
    return undefined;
  }

  /** A stored checkpoint of `origin`: of this size, the largest of all, or the largest below. */
  async #seen(origin: string, which: 'size' | 'largest' | 'below', size: number) {
    let query = this.db
      .selectFrom('log_checkpoints')
      .select(['size', 'root', 'note'])
      .where('origin', '=', origin);
    if (which === 'size') query = query.where('size', '=', BigInt(size));
    if (which === 'below') query = query.where('size', '<', BigInt(size));
    const row = await query.orderBy('size', 'desc').limit(1).executeTakeFirst();
    return row && { size: Number(row.size), root: row.root, note: row.note };
  }

  async #heldSize(origin: string): Promise<number> {
    const head = await this.db
      .selectFrom('log_heads')
      .select('seq')
      .where('origin', '=', origin)
      .executeTakeFirst();
    return Number(head?.seq ?? 0n);
  }

  /**
   * Keeps evidence found outside a checkpoint (the access log held to trust snapshots):
   * stored, its origin refused until resumed, counted, exactly as a peer's fork.
   */
  keep(evidence: Omit<LogEvidence, 'observedAt'>): Promise<LogEvidence> {
    return this.#keep(evidence);
  }

  async #keep(evidence: Omit<LogEvidence, 'observedAt'>): Promise<LogEvidence> {
    const row = await this.db
      .insertInto('log_evidence')
      .values({
        origin: evidence.origin,
        kind: evidence.kind,
        message: evidence.message,
        note: evidence.note,
        other_note: evidence.otherNote ?? null,
      })
      .returning('observed_at')
      .executeTakeFirstOrThrow();
    await this.forked.add(evidence.origin);
    logEvidenceFound.add(1, { origin: evidence.origin, kind: evidence.kind });
    return { ...evidence, observedAt: row.observed_at };
  }
}
