import { LogError, type NoteKey, openNote, parseNote } from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import type { CheckpointPublisher, SignedCheckpoint } from './checkpoint-publisher.js';

/** The center's latest checkpoint as served: its note with the cosignatures gathered. */
export interface ServedCheckpoint extends SignedCheckpoint {
  /** The names of the trusted witnesses whose cosignatures the note carries. */
  readonly cosigners: readonly string[];
  /** How many the federation's quorum needs (`log.witnessQuorum`). */
  readonly quorum: number;
  /** Whether the note carries at least `quorum` cosignatures. */
  readonly final: boolean;
}

/**
 * The cosignatures a center gathered from its peers' witnesses for its own checkpoints,
 * each checked against the witness's key before it is kept, and served with the checkpoint
 * as extra signature lines of its note (c2sp.org/tlog-cosignature). A checkpoint with fewer
 * than the quorum is served all the same, marked not final beside the note.
 */
export class Cosignatures {
  readonly #witnesses: ReadonlyMap<string, NoteKey>;

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    /** The center id: the origin of its checkpoints in log_checkpoints. */
    private readonly center: string,
    private readonly checkpoints: CheckpointPublisher,
    /** The witnesses the federation trusts for this center's log. */
    witnesses: readonly NoteKey[],
    readonly quorum: number,
  ) {
    this.#witnesses = new Map(witnesses.map((w) => [w.name, w]));
  }

  /** The witnesses trusted for this center's log. */
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
      await this.db
        .insertInto('log_cosignatures')
        .values({ origin: this.center, size: BigInt(checkpoint.size), witness: trusted.name, line })
        .onConflict((oc) => oc.columns(['origin', 'size', 'witness']).doUpdateSet({ line }))
        .execute();
      kept++;
    }
    return kept;
  }

  /** The latest checkpoint with the cosignatures gathered for it. */
  async latest(): Promise<ServedCheckpoint | undefined> {
    const checkpoint = await this.checkpoints.latest();
    return checkpoint && this.cosigned(checkpoint);
  }

  /** A checkpoint with the cosignatures gathered for it, by trusted witnesses only. */
  async cosigned(checkpoint: SignedCheckpoint): Promise<ServedCheckpoint> {
    const rows = await this.db
      .selectFrom('log_cosignatures')
      .select(['witness', 'line'])
      .where('origin', '=', this.center)
      .where('size', '=', BigInt(checkpoint.size))
      .orderBy('witness')
      .execute();
    const trusted = rows.filter((r) => this.#witnesses.has(r.witness));
    return {
      ...checkpoint,
      note: checkpoint.note + trusted.map((r) => r.line).join(''),
      cosigners: trusted.map((r) => r.witness),
      quorum: this.quorum,
      final: trusted.length >= this.quorum,
    };
  }
}
