import { Code, ConnectError } from '@connectrpc/connect';
import { codeName, fieldViolationsOf } from '@vitrine/rpc';
import { CliError } from './cli-error.js';
import type { Target } from './endpoints.js';

/** Socket errors that mean nothing answered at the address (as opposed to a refusal). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/**
 * Turns a failed registry call into a one-line message that says where it failed:
 * `artifact … not found at europe`, `cannot reach europe at http://… — is \`vitrine dev\`
 * running?`. `subject` names what the call looked up, for NOT_FOUND. The bad fields of an
 * INVALID_ARGUMENT's `google.rpc.BadRequest` detail are kept for `--json`. Errors that are not
 * registry errors pass through unchanged.
 */
export function explainRpcError(err: unknown, target: Target, subject?: string): unknown {
  if (!(err instanceof ConnectError)) return err;
  const code = codeName(err.code);
  if (err.code === Code.Unavailable && isUnreachable(err)) {
    const where = target.center === undefined ? target.url : `${target.label} at ${target.url}`;
    return new CliError(code, `cannot reach ${where} — is \`vitrine dev\` running?`, {
      cause: err,
    });
  }
  if (err.code === Code.NotFound && subject !== undefined) {
    return new CliError(code, `${subject} not found at ${target.label}`, { cause: err });
  }
  return new CliError(code, `${target.label}: ${err.rawMessage}`, {
    cause: err,
    violations: fieldViolationsOf(err),
  });
}

/** Whether a Connect error came from the socket rather than from a server's answer. */
function isUnreachable(err: ConnectError): boolean {
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 5 && cause instanceof Error; depth += 1) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined && UNREACHABLE.has(code)) return true;
    cause = cause.cause;
  }
  return false;
}
