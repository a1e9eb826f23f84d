import type { FieldViolation } from '@vitrine/errors';

/** Codes for failures found on this side of the wire. */
export type LocalErrorCode = 'USAGE' | 'CONFIG' | 'IO' | 'INTERNAL' | 'DATA_LOSS';

/**
 * Codes a failed command reports: one of the CLI's own, or the gRPC status name the
 * registry answered with (`NOT_FOUND`, `UNAVAILABLE`, …) as `codeName` in
 * `@vitrine/rpc` spells it, so the CLI, the services' logs and grpcurl agree.
 */
export type CliErrorCode = LocalErrorCode | (string & {});

/** Exit status for a command line the CLI could not act on (bad flags, no federation file). */
export const EXIT_USAGE = 2;
/** Exit status for a remote or domain failure (refused call, digest mismatch, I/O). */
export const EXIT_FAILURE = 1;

/**
 * A failure with a code and a one-line message fit for the person at the terminal. Every
 * error a command raises becomes one of these before it is printed, so the output is
 * always `vitrine: <message> (<CODE>)` or `{"error":{"code","message"}}`.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  /** The bad fields a server named in its `google.rpc.BadRequest` detail, if any. */
  readonly violations: readonly FieldViolation[];

  constructor(
    readonly code: CliErrorCode,
    message: string,
    options?: { cause?: unknown; violations?: readonly FieldViolation[] },
  ) {
    super(message, options);
    this.violations = options?.violations ?? [];
  }

  /** 2 for problems with the command line or local setup, 1 for everything else. */
  get exitCode(): number {
    return this.code === 'USAGE' || this.code === 'CONFIG' ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** Shorthand for the most common failure: a command line that cannot be acted on. */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message);
}

/**
 * Thrown once a failure has been printed, so `main` only has to turn it into an exit
 * status without printing it twice.
 */
export class ReportedFailure extends Error {
  override readonly name = 'ReportedFailure';

  constructor(readonly exitCode: number) {
    super(`command failed with exit status ${exitCode}`);
  }
}
