import { LogError } from './log-error.js';
import { HASH_SIZE } from './merkle-hash.js';
import { strictBase64 } from './note-keys.js';

/**
 * A log's statement of its size and root (c2sp.org/tlog-checkpoint v1.0.0): the note text
 * `<origin>\n<size>\n<base64 root>\n`, then any extension lines.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

/** The note text of a checkpoint. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  checkOrigin(checkpoint.origin);
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) {
    throw new LogError('checkpoint', `checkpoint size ${checkpoint.size} is not valid`);
  }
  if (checkpoint.root.length !== HASH_SIZE) {
    throw new LogError('checkpoint', 'checkpoint root is not 32 bytes');
  }
  for (const line of checkpoint.extensions) {
    if (line.length === 0 || line.includes('\n')) {
      throw new LogError('checkpoint', 'a checkpoint extension is one non-empty line');
    }
  }
  const root = Buffer.from(checkpoint.root).toString('base64');
  const lines = [checkpoint.origin, String(checkpoint.size), root, ...checkpoint.extensions];
  return `${lines.join('\n')}\n`;
}

/** Parses the text of a checkpoint note (already opened, or about to be). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new LogError('checkpoint', 'checkpoint text ends in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new LogError('checkpoint', 'checkpoint has fewer than three lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  checkOrigin(origin);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new LogError('checkpoint', 'checkpoint size is not a decimal without leading zeros');
  }
  const root = strictBase64(rootLine);
  if (root === undefined || root.length !== HASH_SIZE) {
    throw new LogError('checkpoint', 'checkpoint root is not 32 bytes of base64');
  }
  if (extensions.some((line) => line.length === 0)) {
    throw new LogError('checkpoint', 'checkpoint has an empty extension line');
  }
  return { origin, size: Number(sizeLine), root, extensions };
}

function checkOrigin(origin: string): void {
  if (origin.length === 0 || origin.includes('\n')) {
    throw new LogError('checkpoint', 'checkpoint origin is one non-empty line');
  }
}
