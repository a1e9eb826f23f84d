/**
 * The closed set of failure codes vitrine's domain code raises. Each maps to exactly one
 * gRPC status in `@vitrine/rpc` (the only place that knows about transports).
 */
export type ErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'data_loss'
  | 'unauthenticated'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'unavailable'
  | 'internal';

/**
 * A domain failure with a code and a message fit for the caller. `cause` is for logs only
 * and never leaves the process.
 */
export class VitrineError extends Error {
  override readonly name = 'VitrineError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Narrows an unknown thrown value to a VitrineError, optionally of one code. */
export function isVitrineError(err: unknown, code?: ErrorCode): err is VitrineError {
  return err instanceof VitrineError && (code === undefined || err.code === code);
}
