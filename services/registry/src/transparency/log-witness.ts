import { bytesEqual } from '@vitrine/crypto';
import {
  type Checkpoint,
  cosignatureLine,
  LogError,
  type NoteSigner,
  openNote,
  parseAddCheckpoint,
  parseCheckpoint,
  parseNote,
  verifyConsistency,
} from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import type { CheckpointWitness } from './checkpoint-witness.js';
import type { KnownLog } from './known-logs.js';

/**
 * The answer to an add-checkpoint request, as C2SP tlog-witness v1.0.0 names it: 200 with
 * cosignature lines; 409 with the size the witness holds; 400, 403, 404 or 422 refused.
 */
export type AddCheckpointAnswer =
  | { readonly status: 200; readonly cosignature: string; readonly size: number }
  | { readonly status: 409; readonly size: number; readonly message: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly message: string };

/** The latest checkpoint cosigned of a log. */
export interface WitnessedCheckpoint {
  readonly size: number;
  readonly root: Uint8Array;
  readonly note: string;
}

/**
 * A center as a witness of its federation's other logs (C2SP tlog-witness v1.0.0 with
 * C2SP tlog-cosignature v1.0.1 cosignature/v1): takes a checkpoint signed by a known log
 * with a consistency proof from the size it last cosigned of that log, records the new
 * size and root by compare-and-swap in the database (of two concurrent requests from one
 * size, one wins and the other is answered 409), then cosigns. The state it last wrote or
 * read is remembered, so a request from the size it holds costs one write and no read;
 * the compare-and-swap, not the memory, decides (a request that disagrees with it, or a
 * swap that fails, reads the row again). A proof that fails, or a
 * second root for the size it holds, is kept as evidence with both signed checkpoints.
 */
export class LogWitness {
  readonly #logs: ReadonlyMap<string, KnownLog>;
  /** The state per origin as this process last wrote or read it. */
  readonly #held = new Map<string, WitnessedCheckpoint>();

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly signer: NoteSigner,
    logs: readonly KnownLog[],
    private readonly evidence: CheckpointWitness,
    private readonly now: () => number = Date.now,
  ) {
    this.#logs = new Map(logs.map((log) => [log.origin, log]));
  }

  /** The logs this witness cosigns. */
  get logs(): readonly KnownLog[] {
    return [...this.#logs.values()];
  }

  /** Handles one add-checkpoint body; never throws for what the caller sent. */
  async addCheckpoint(body: string | Uint8Array): Promise<AddCheckpointAnswer> {
    let request: ReturnType<typeof parseAddCheckpoint>;
    let checkpoint: Checkpoint;
    try {
      request = parseAddCheckpoint(body);
      checkpoint = parseCheckpoint(parseNote(request.note).text);
    } catch (err) {
      if (err instanceof LogError) return { status: 400, message: err.message };
      throw err;
    }
    const log = this.#logs.get(checkpoint.origin);
    if (log === undefined) {
      return { status: 404, message: `this witness does not know the log ${checkpoint.origin}` };
    }
    try {
      await openNote(request.note, [log.key]);
    } catch (err) {
      if (!(err instanceof LogError)) throw err;
      return { status: 403, message: `checkpoint is not signed by ${log.origin}'s key` };
    }
    if (request.oldSize > checkpoint.size) {
      return {
        status: 400,
        message: `old size ${request.oldSize} is beyond the checkpoint's ${checkpoint.size}`,
      };
    }
    let held = this.#held.get(log.origin);
    if (held === undefined || held.size !== request.oldSize) held = await this.state(log.origin);
    const heldSize = held?.size ?? 0;
    if (request.oldSize !== heldSize) return conflict(heldSize);
    if (held !== undefined && held.size === checkpoint.size) {
      if (!bytesEqual(held.root, checkpoint.root)) {
        await this.#evidence(log, 'fork', request.note, held, `two roots for size ${held.size}`);
        return conflict(heldSize, `${log.origin} signed another root for ${held.size}`);
      }
    } else if (held !== undefined && held.size > 0) {
      try {
        verifyConsistency(held.size, checkpoint.size, request.proof, held.root, checkpoint.root);
      } catch (err) {
        if (!(err instanceof LogError)) throw err;
        await this.#evidence(log, 'bad-proof', request.note, held, err.message);
        return { status: 422, message: `consistency proof does not verify: ${err.message}` };
      }
    }
    if (!(await this.#swap(log.origin, held, checkpoint, request.note))) {
      return conflict((await this.state(log.origin))?.size ?? 0);
    }
    this.#held.set(log.origin, {
      size: checkpoint.size,
      root: checkpoint.root,
      note: request.note,
    });
    const timestamp = Math.floor(this.now() / 1000);
    const cosignature = await cosignatureLine(parseNote(request.note).text, this.signer, timestamp);
    return { status: 200, cosignature, size: checkpoint.size };
  }

  /** The latest checkpoint cosigned of the log with this origin line, if any. */
  async state(origin: string): Promise<WitnessedCheckpoint | undefined> {
    const row = await this.db
      .selectFrom('witness_state')
      .select(['size', 'root', 'note'])
      .where('origin', '=', origin)
      .executeTakeFirst();
    const state = row && { size: Number(row.size), root: row.root, note: row.note };
    if (state === undefined) this.#held.delete(origin);
    else this.#held.set(origin, state);
    return state;
  }

  /** Replaces `held` by the checkpoint if nobody replaced it first; whether it did. */
  async #swap(
    origin: string,
    held: WitnessedCheckpoint | undefined,
    checkpoint: Checkpoint,
    note: string,
  ): Promise<boolean> {
    const values = { size: BigInt(checkpoint.size), root: checkpoint.root, note };
    if (held === undefined) {
      const inserted = await this.db
        .insertInto('witness_state')
        .values({ origin, ...values })
        .onConflict((oc) => oc.column('origin').doNothing())
        .returning('origin')
        .executeTakeFirst();
      return inserted !== undefined;
    }
    const updated = await this.db
      .updateTable('witness_state')
      .set({ ...values, cosigned_at: new Date(this.now()) })
      .where('origin', '=', origin)
      .where('size', '=', BigInt(held.size))
      .where('root', '=', held.root)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async #evidence(
    log: KnownLog,
    kind: 'fork' | 'bad-proof',
    note: string,
    held: WitnessedCheckpoint,
    why: string,
  ): Promise<void> {
    const message = `${log.origin}'s checkpoint sent to this witness contradicts the one it cosigned at ${held.size}: ${why}`;
    await this.evidence.keep({ origin: log.id, kind, message, note, otherNote: held.note });
  }
}

function conflict(size: number, message?: string): AddCheckpointAnswer {
  return { status: 409, size, message: message ?? `this witness last cosigned size ${size}` };
}
