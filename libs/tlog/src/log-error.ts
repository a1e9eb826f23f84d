import { VitrineError } from '@vitrine/errors';

/**
 * Why a transparency-log statement was refused: a proof, a note, a checkpoint or a
 * cosignature. The reason is one of a closed set, so callers and tests can tell the steps
 * apart; the message says which step failed and nothing about secret material.
 */
export type LogErrorReason =
  | 'malformed'
  | 'size'
  | 'inclusion'
  | 'consistency'
  | 'note-signature'
  | 'unknown-key'
  | 'checkpoint'
  | 'quorum';

/**
 * A refused log statement. Its code is `data_loss` by default (what a peer or a log served
 * does not hold together); a server parsing a caller's input raises it as `invalid_argument`.
 */
export class LogError extends VitrineError {
  constructor(
    readonly reason: LogErrorReason,
    message: string,
    code: 'data_loss' | 'invalid_argument' = 'data_loss',
  ) {
    super(code, message);
  }
}
