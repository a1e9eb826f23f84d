import { type Checkpoint, parseCheckpoint } from './checkpoint.js';
import { LogError } from './log-error.js';
import { type NoteKey, SignatureType } from './note-keys.js';
import { openNote } from './signed-note.js';

/** Who must have signed a checkpoint for it to be taken: its log, and enough witnesses. */
export interface CosignaturePolicy {
  /** The log's key (Ed25519, type 0x01). */
  readonly log: NoteKey;
  /** The checkpoint's origin line; the log key's name when not given (vitrine's logs). */
  readonly origin?: string;
  /** The witnesses trusted for this log (cosignature/v1 keys, type 0x04). */
  readonly witnesses: readonly NoteKey[];
  /** How many distinct trusted witnesses must have cosigned. */
  readonly quorum: number;
}

/** A checkpoint that met its policy, and the witnesses whose cosignatures verified. */
export interface CosignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly text: string;
  /** Distinct trusted witnesses that cosigned, with their cosignature times (POSIX seconds). */
  readonly cosigners: readonly { readonly name: string; readonly timestamp: number }[];
}

/**
 * Verifies a checkpoint note as a client of a witnessed log does (c2sp.org/tlog-cosignature):
 * the log's signature must verify, every signature by a trusted key present must verify,
 * signatures by unknown keys are ignored, and at least `quorum` distinct trusted witnesses
 * must have cosigned. Throws a LogError naming what failed ('quorum' when too few cosigned).
 */
export async function verifyCosignedCheckpoint(
  note: string | Uint8Array,
  policy: CosignaturePolicy,
): Promise<CosignedCheckpoint> {
  if (!Number.isSafeInteger(policy.quorum) || policy.quorum < 0) {
    throw new LogError('malformed', `quorum ${policy.quorum} is not a whole number`);
  }
  if (policy.log.type !== SignatureType.ed25519) {
    throw new LogError('malformed', `${policy.log.name} is not an Ed25519 log key`);
  }
  const witnesses = policy.witnesses.filter((w) => w.type === SignatureType.cosignatureV1);
  if (witnesses.length !== policy.witnesses.length) {
    throw new LogError('malformed', 'witness keys are cosignature/v1 keys');
  }
  const opened = await openNote(note, [policy.log, ...witnesses]);
  if (!opened.verified.some((v) => v.key === policy.log)) {
    throw new LogError('unknown-key', `checkpoint is not signed by ${policy.log.name}`);
  }
  const checkpoint = parseCheckpoint(opened.text);
  const origin = policy.origin ?? policy.log.name;
  if (checkpoint.origin !== origin) {
    throw new LogError('checkpoint', `checkpoint of ${checkpoint.origin}, not ${origin}`);
  }
  const cosigners = new Map<NoteKey, number>();
  for (const v of opened.verified) {
    if (v.key !== policy.log && v.timestamp !== undefined && !cosigners.has(v.key)) {
      cosigners.set(v.key, v.timestamp);
    }
  }
  if (cosigners.size < policy.quorum) {
    throw new LogError(
      'quorum',
      `checkpoint has ${cosigners.size} of the ${policy.quorum} cosignatures its policy needs`,
    );
  }
  return {
    checkpoint,
    text: opened.text,
    cosigners: [...cosigners].map(([key, timestamp]) => ({ name: key.name, timestamp })),
  };
}
