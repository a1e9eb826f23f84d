import { LogError, type NoteKey, openNote, parseNote } from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import type { SignedCheckpoint } from './checkpoint-publisher.js';
import type { StoreDb } from './log-store.js';

/** A log's latest checkpoint as served: its note with the cosignatures gathered. */
export interface ServedCheckpoint extends SignedCheckpoint {
  /** The names of the trusted witnesses whose cosignatures the note carries. */
  readonly cosigners: readonly string[];
  /** How many the log's quorum needs. */
  readonly quorum: number;
  /** Whether the note carries at least `quorum` cosignatures. */
  readonly final: boolean;
}

/** Where cosignatures are kept: a table of (log, size, witness, line) rows. */
export interface CosignatureTable {
  /** The table; its key is (log column, `size`, `witness`), `line` holds the signature line. */
  readonly table: string;
  /** The column naming the log; `log` by default. */
  readonly logColumn?: string;
  /** Which log of the table. */
  readonly log: string;
}

export interface CosignatureStoreOptions extends CosignatureTable {
  readonly db: StoreDb;
  /** The log's own checkpoints. */
  readonly checkpoints: { latest(): Promise<SignedCheckpoint | undefined> };
  /** The witnesses trusted for this log. */
  readonly witnesses: readonly NoteKey[];
  /** Distinct trusted witnesses a checkpoint needs to be final. */
  readonly quorum: number;
}

type LooseDb = Kysely<Record<string, Record<string, unknown>>>;

/**
 * The cosignatures a log gathered from witnesses for its own checkpoints, each checked
 * against the witness's key before it is kept, and served with the checkpoint as extra
 * signature lines of its note (c2sp.org/tlog-cosignature). A checkpoint with fewer than
 * the quorum is served all the same, marked not final beside the note.
 */
export class CosignatureStore {
  readonly quorum: number;
  readonly #witnesses: ReadonlyMap<string, NoteKey>;
  readonly #db: LooseDb;
  readonly #col: string;

  constructor(private readonly options: CosignatureStoreOptions) {
    this.quorum = options.quorum;
    this.#witnesses = new Map(options.witnesses.map((w) => [w.name, w]));
    this.#db = options.db as LooseDb;
    this.#col = options.logColumn ?? 'log';
  }

  /** The witnesses trusted for this log. */
  get witnesses(): readonly NoteKey[] {
    return [...this.#witnesses.values()];
  }

  /**
   * Keeps the lines of a witness's answer that are `witness`'s valid cosignatures of the
   * checkpoint (other keys' lines are ignored, as the spec says); returns how many it kept.
   * A line by `witness` that does not verify is refused (`data_loss`).
   */
  async add(checkpoint: SignedCheckpoint, lines: string, witness: NoteKey): Promise<number> {
    const trusted = this.#witnesses.get(witness.name);
    if (trusted === undefined || trusted.keyId !== witness.keyId) {
      throw new LogError('unknown-key', `${witness.name} is not a witness of this log`);
    }
    const answer = parseNote(`${checkpoint.note}${lines}`).signatures.length;
    const own = parseNote(checkpoint.note).signatures.length;
    let kept = 0;
    for (const line of lines.split(/(?<=\n)/).slice(0, answer - own)) {
      const opened = await openNote(`${checkpoint.note}${line}`, [trusted]).catch((err) => {
        if (err instanceof LogError && err.reason === 'unknown-key') return undefined;
        throw err;
      });
      if (opened === undefined) continue;
      await this.#db
        .insertInto(this.options.table)
        .values({
          [this.#col]: this.options.log,
          size: BigInt(checkpoint.size),
          witness: trusted.name,
          line,
        })
        .onConflict((oc) => oc.columns([this.#col, 'size', 'witness']).doUpdateSet({ line }))
        .execute();
      kept++;
    }
    return kept;
  }

  /** The largest size `witness` cosigned of this log, as kept here; undefined when none. */
  async lastCosigned(witness: string): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom(this.options.table)
      .select('size')
      .where(this.#col, '=', this.options.log)
      .where('witness', '=', witness)
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && Number(row.size as bigint);
  }

  /** The latest checkpoint with the cosignatures gathered for it. */
  async latest(): Promise<ServedCheckpoint | undefined> {
    const checkpoint = await this.options.checkpoints.latest();
    return checkpoint && this.cosigned(checkpoint);
  }

  /** A checkpoint with the cosignatures gathered for it, by trusted witnesses only. */
  async cosigned(checkpoint: SignedCheckpoint): Promise<ServedCheckpoint> {
    const rows = await this.#db
      .selectFrom(this.options.table)
      .select(['witness', 'line'])
      .where(this.#col, '=', this.options.log)
      .where('size', '=', BigInt(checkpoint.size))
      .orderBy('witness')
      .execute();
    const trusted = rows.filter((r) => this.#witnesses.has(r.witness as string));
    return {
      ...checkpoint,
      note: checkpoint.note + trusted.map((r) => r.line as string).join(''),
      cosigners: trusted.map((r) => r.witness as string),
      quorum: this.quorum,
      final: trusted.length >= this.quorum,
    };
  }
}
