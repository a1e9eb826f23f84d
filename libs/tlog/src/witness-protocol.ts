import { LogError } from './log-error.js';
import { HASH_SIZE } from './merkle-hash.js';
import { strictBase64 } from './note-keys.js';
import { MAX_NOTE_BYTES } from './signed-note.js';

/** Consistency proof lines an add-checkpoint body may carry (c2sp.org/tlog-witness). */
export const MAX_PROOF_LINES = 63;

/** Where a witness takes checkpoints on its server, by vitrine's convention (beside `/log/` tiles). */
export const ADD_CHECKPOINT_PATH = '/log/add-checkpoint';

/**
 * The largest add-checkpoint body vitrine takes: the old size line, 63 proof lines of 45
 * bytes, a blank line and a note of at most MAX_NOTE_BYTES.
 */
export const MAX_ADD_CHECKPOINT_BYTES = MAX_NOTE_BYTES + 4 * 1024;

/** The content type of a witness's 409 answer: its size, in decimal, then a newline. */
export const TREE_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

/** An add-checkpoint request (c2sp.org/tlog-witness v1.0.0): old size, proof, checkpoint. */
export interface AddCheckpointRequest {
  /** The size of the latest checkpoint the caller believes the witness cosigned (0: none). */
  readonly oldSize: number;
  /** The RFC 6962 consistency proof from oldSize to the checkpoint's size. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, whole. */
  readonly note: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Parses an add-checkpoint body: `old <size>\n`, up to 63 base64 hash lines, an empty line,
 * then the checkpoint note. Anything else is refused as `invalid_argument` (HTTP 400); the
 * note itself is checked by whoever opens it.
 */
export function parseAddCheckpoint(body: string | Uint8Array): AddCheckpointRequest {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (bytes > MAX_ADD_CHECKPOINT_BYTES) {
    throw malformed(`body is larger than ${MAX_ADD_CHECKPOINT_BYTES} bytes`);
  }
  const text = typeof body === 'string' ? body : decodeUtf8(body);
  const end = text.indexOf('\n\n');
  if (end < 0) throw malformed('body has no empty line before the checkpoint');
  const lines = text.slice(0, end).split('\n');
  const oldLine = /^old (.*)$/.exec(lines[0] as string);
  if (oldLine === null || !DECIMAL.test(oldLine[1] as string)) {
    throw malformed('the first line is `old <size>`, in decimal without leading zeros');
  }
  const oldSize = Number(oldLine[1]);
  if (!Number.isSafeInteger(oldSize)) throw malformed('old size is too large');
  const proofLines = lines.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) {
    throw malformed(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  }
  const proof = proofLines.map((line) => {
    const hash = strictBase64(line);
    if (hash === undefined || hash.length !== HASH_SIZE) {
      throw malformed('a consistency proof line is one 32-byte hash in base64');
    }
    return hash;
  });
  if (oldSize === 0 && proof.length > 0) throw malformed('a proof from size 0 is empty');
  return { oldSize, proof, note: text.slice(end + 2) };
}

/** The body of an add-checkpoint request. */
export function formatAddCheckpoint(request: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(request.oldSize) || request.oldSize < 0) {
    throw new LogError('size', `old size ${request.oldSize} is not valid`);
  }
  if (request.proof.length > MAX_PROOF_LINES) {
    throw new LogError('malformed', `more than ${MAX_PROOF_LINES} consistency proof lines`);
  }
  const proof = request.proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('');
  return `old ${request.oldSize}\n${proof}\n${request.note}`;
}

/** Parses a witness's `text/x.tlog.size` body: a decimal size and a newline. */
export function parseTreeSize(body: string): number {
  const size = body.endsWith('\n') ? body.slice(0, -1) : undefined;
  if (size === undefined || !DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) {
    throw new LogError('malformed', 'a tree size is a decimal and a newline');
  }
  return Number(size);
}

function malformed(message: string): LogError {
  return new LogError('malformed', `add-checkpoint: ${message}`, 'invalid_argument');
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed('body is not UTF-8');
  }
}
