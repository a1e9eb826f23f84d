import { LogError } from './log-error.js';
import { HASH_SIZE } from './merkle-hash.js';
import { strictBase64 } from './note-keys.js';
import { parseNote } from './signed-note.js';

const HEADER = 'c2sp.org/tlog-proof@v1';

/** The largest proof vitrine reads: a checkpoint note and 64 hashes fit many times over. */
const MAX_PROOF_BYTES = 128 * 1024;

/**
 * An offline-verifiable proof that an entry is in a log (c2sp.org/tlog-proof v1): the
 * entry's index, its inclusion proof, the signed checkpoint the proof leads to, and
 * optional extra data (not authenticated by the format: vitrine puts the leaf there, which
 * the inclusion proof then vouches for).
 */
export interface TlogProof {
  readonly extra?: Uint8Array | undefined;
  readonly index: number;
  readonly proof: readonly Uint8Array[];
  /** The checkpoint's whole signed note, verbatim. */
  readonly checkpoint: string;
}

/** The text of a proof (`.tlog-proof`). */
export function formatTlogProof(p: TlogProof): string {
  const lines = [HEADER];
  if (p.extra !== undefined) lines.push(`extra ${Buffer.from(p.extra).toString('base64')}`);
  lines.push(`index ${p.index}`);
  for (const hash of p.proof) lines.push(Buffer.from(hash).toString('base64'));
  parseNote(p.checkpoint);
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

/** Reads a proof's text; throws a LogError naming what is malformed. */
export function parseTlogProof(text: string): TlogProof {
  if (Buffer.byteLength(text) > MAX_PROOF_BYTES) {
    throw new LogError('malformed', `a tlog-proof is at most ${MAX_PROOF_BYTES} bytes`);
  }
  const split = text.indexOf('\n\n');
  if (split < 0) throw new LogError('malformed', 'tlog-proof has no checkpoint');
  const lines = text.slice(0, split).split('\n');
  if (lines.shift() !== HEADER)
    throw new LogError('malformed', `tlog-proof does not begin ${HEADER}`);
  let extra: Uint8Array | undefined;
  if (lines[0]?.startsWith('extra ')) {
    extra = strictBase64((lines.shift() as string).slice('extra '.length));
    if (extra === undefined) throw new LogError('malformed', 'tlog-proof extra is not base64');
  }
  const indexLine = /^index (0|[1-9][0-9]*)$/.exec(lines.shift() ?? '');
  const index = Number(indexLine?.[1]);
  if (indexLine === null || !Number.isSafeInteger(index)) {
    throw new LogError('malformed', 'tlog-proof index is not a decimal without leading zeros');
  }
  const proof = lines.map((line) => {
    const hash = strictBase64(line);
    if (hash === undefined || hash.length !== HASH_SIZE) {
      throw new LogError('malformed', 'a tlog-proof hash is not 32 bytes of base64');
    }
    return hash;
  });
  const checkpoint = text.slice(split + 2);
  parseNote(checkpoint);
  return { extra, index, proof, checkpoint };
}
