/**
 * The HTTP/2 side of a server stream served directly: each message written as its length
 * prefix then its pieces, under flow control, and the status (with any error details, by
 * Connect's `setTrailerStatus`) in the trailers or, before any message, in the headers.
 */
import type * as http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  contentTypeProto,
  headerAcceptEncoding,
  headerContentType,
  setTrailerStatus,
} from '@connectrpc/connect/protocol-grpc';

/** Bytes before each gRPC message: a flags byte and its length, 32 bits big-endian. */
const PREFIX_BYTES = 5;
const MAX_MESSAGE_BYTES = 0xffff_ffff;
const RESPONSE_HEADERS = {
  [headerContentType.toLowerCase()]: contentTypeProto,
  [headerAcceptEncoding.toLowerCase()]: 'identity',
};
/** Unpaired UTF-16 surrogates, which grpc-message cannot carry (percent-encoding refuses them). */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/** Sends the response headers, once: before the first message, or with a status. */
export function beginResponse(res: http2.Http2ServerResponse): void {
  if (!res.headersSent) res.writeHead(200, RESPONSE_HEADERS);
}

/** Writes one response message, its length prefix then its pieces, waiting out flow control. */
export async function writeMessage(
  res: http2.Http2ServerResponse,
  pieces: readonly Uint8Array[],
  signal: AbortSignal,
): Promise<void> {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  if (length > MAX_MESSAGE_BYTES) {
    throw new ConnectError(`response message of ${length} bytes is too large`, Code.Internal);
  }
  beginResponse(res);
  const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
  prefix[0] = 0;
  prefix.writeUInt32BE(length, 1);
  res.stream.cork();
  res.write(prefix);
  for (const piece of pieces) res.write(piece);
  res.stream.uncork();
  if (res.stream.writableNeedDrain) await drained(res, signal);
}

/** Resolves when the stream takes writes again; rejects with the call's end if it ends first. */
function drained(res: http2.Http2ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      res.stream.off('drain', done);
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    };
    res.stream.on('drain', done);
    signal.addEventListener('abort', done);
  });
}

/**
 * Ends the response with its status — OK without `error` — in the trailers, or in the
 * headers of a response that has sent none yet (gRPC's trailers-only form). The error's
 * details travel as `grpc-status-details-bin`, as Connect's own handlers send them.
 */
export function endResponse(res: http2.Http2ServerResponse, error?: ConnectError): void {
  const status = setTrailerStatus(new Headers(), error === undefined ? undefined : sendable(error));
  const fields: Record<string, string> = {};
  status.forEach((value, name) => {
    fields[name] = value;
  });
  if (res.headersSent) res.addTrailers(fields);
  else res.writeHead(200, { ...RESPONSE_HEADERS, ...fields });
  res.end();
}

/** The error with U+FFFD in place of any lone surrogate in its message. */
function sendable(error: ConnectError): ConnectError {
  if (!LONE_SURROGATE.test(error.rawMessage)) return error;
  const message = error.rawMessage.replace(LONE_SURROGATES, '\uFFFD');
  const copy = new ConnectError(message, error.code, error.metadata, undefined, error.cause);
  copy.details = error.details;
  return copy;
}
