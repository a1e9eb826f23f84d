import { Code, ConnectError, type Interceptor, type StreamResponse } from '@connectrpc/connect';
import {
  type ErrorCode,
  type FieldViolation,
  InvalidArgumentError,
  VitrineError,
} from '@vitrine/errors';
import { BadRequestSchema } from '@vitrine/proto/error-details';
import type { Logger } from './logger.js';
import { isUndecodableRequest } from './undecodable-request.js';

/** The generic message sent for every failure vitrine did not anticipate. */
const INTERNAL_MESSAGE = 'internal error';

/**
 * The gRPC status for each domain error code. A `Record` over the closed union, so adding
 * a code to `ErrorCode` fails to compile until it is mapped here.
 */
const GRPC_CODES: Record<ErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  data_loss: Code.DataLoss,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

/** Returns the gRPC status code a domain error code is sent as. */
export function grpcCodeFor(code: ErrorCode): Code {
  return GRPC_CODES[code];
}

/** True for the errors a cancelled call or an expired deadline raises inside a handler. */
function isAbort(err: unknown, signal: AbortSignal): boolean {
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return true;
  }
  return signal.aborted && err === signal.reason;
}

/**
 * The `google.rpc.BadRequest` detail naming each bad field, as gRPC and Connect clients
 * read it (`grpc-status-details-bin`, or the Connect error's `details`).
 */
export function badRequestDetail(violations: readonly FieldViolation[]) {
  return {
    desc: BadRequestSchema,
    value: {
      fieldViolations: violations.map((v) => ({ field: v.field, description: v.message })),
    },
  };
}

/** The bad fields a failed call's `google.rpc.BadRequest` detail names; none without one. */
export function fieldViolationsOf(err: unknown): FieldViolation[] {
  if (!(err instanceof ConnectError)) return [];
  return err
    .findDetails(BadRequestSchema)
    .flatMap((bad) => bad.fieldViolations)
    .map((v) => ({ field: v.field, message: v.description }));
}

/**
 * Turns whatever a handler threw into the status the caller receives: a VitrineError
 * keeps its message under the mapped code (an InvalidArgumentError's bad fields also as a
 * `google.rpc.BadRequest` detail), a ConnectError passes through (one for a
 * request message that does not decode as INVALID_ARGUMENT), a cancelled
 * call stays cancelled, and anything else becomes Internal "internal error" with the
 * cause logged (never sent). The cause of a VitrineError is logged too, never sent.
 */
export function toConnectError(err: unknown, logger: Logger, signal?: AbortSignal): ConnectError {
  if (err instanceof ConnectError) {
    return isUndecodableRequest(err) ? new ConnectError(err.rawMessage, Code.InvalidArgument) : err;
  }
  if (err instanceof VitrineError) {
    if (err.code === 'internal' || err.cause !== undefined) {
      logger.warn({ err, code: err.code }, 'rpc failed');
    }
    const details =
      err instanceof InvalidArgumentError && err.violations.length > 0
        ? [badRequestDetail(err.violations)]
        : undefined;
    return new ConnectError(err.message, GRPC_CODES[err.code], undefined, details);
  }
  if (signal !== undefined && isAbort(err, signal)) {
    return ConnectError.from(signal.reason ?? err, Code.Canceled);
  }
  logger.error({ err }, 'rpc failed with an unexpected error');
  return new ConnectError(INTERNAL_MESSAGE, Code.Internal);
}

/** Re-throws errors raised while a response stream is produced, mapped like any other. */
async function* mapStreamErrors<T>(
  messages: AsyncIterable<T>,
  logger: Logger,
  signal: AbortSignal,
): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (err) {
    throw toConnectError(err, logger, signal);
  }
}

/**
 * The one place domain errors become gRPC statuses, as a server interceptor. It covers
 * unary calls, errors thrown before a stream starts, and errors thrown while a handler
 * reads its request stream or yields its response stream. Install it outside every
 * interceptor that may throw domain errors (startServer does).
 */
export function errorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      throw toConnectError(err, logger, req.signal);
    }
    if (!res.stream) return res;
    const mapped: StreamResponse = {
      ...res,
      message: mapStreamErrors(res.message, logger, req.signal),
    };
    return mapped;
  };
}

/**
 * The gRPC code of an error a client call raised (Canceled for an abort, Unknown for
 * anything else that is not a ConnectError), so CLI and tests can branch on codes without importing Connect.
 */
export function codeOf(err: unknown): Code {
  return ConnectError.from(err).code;
}

/** The canonical gRPC name of a code ("NOT_FOUND"; "OK" for 0), as the CLI and grpcurl print it. */
export function codeName(code: Code | 0): string {
  if (code === 0) return 'OK';
  if (code === Code.Canceled) return 'CANCELLED';
  return (Code[code] ?? 'Unknown').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}
