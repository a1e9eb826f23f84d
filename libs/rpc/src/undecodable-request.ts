import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';

/** What Connect's messages for a request that does not decode start with. */
const PARSE_FAILURE = /^parse (?:binary|json): /;
const GRPC_CONTENT = /^application\/grpc(?:[+;]|$)/i;

/**
 * True for the error Connect raises when a request message does not decode — malformed
 * or too deeply nested protobuf, invalid UTF-8 in a string field. Connect gives it
 * INTERNAL, the code it also gives a client a response it cannot parse; on a server the
 * caller sent those bytes, so vitrine answers INVALID_ARGUMENT, with Connect's message.
 */
export function isUndecodableRequest(err: ConnectError): boolean {
  return err.code === Code.Internal && PARSE_FAILURE.test(err.rawMessage);
}

/**
 * Sends INVALID_ARGUMENT for a gRPC request whose message did not decode. A message of a
 * request stream is decoded as the handler reads it, so the error interceptor maps it; a
 * unary or server-streaming call's one message is decoded before any interceptor runs,
 * and Connect writes the status itself, into the response head or trailers — where this
 * rewrites it. (Connect and gRPC-Web callers carry the status in the body, and still see
 * INTERNAL for such a message.)
 */
export function answerUndecodableAsInvalid(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
): void {
  if (!GRPC_CONTENT.test(req.headers['content-type'] ?? '')) return;
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => unknown;
  const addTrailers = res.addTrailers.bind(res) as (headers: http.OutgoingHttpHeaders) => void;
  Object.assign(res, {
    writeHead: (status: number, headers?: http.OutgoingHttpHeaders) =>
      headers === undefined ? writeHead(status) : writeHead(status, mapped(headers)),
    addTrailers: (headers: http.OutgoingHttpHeaders) => addTrailers(mapped(headers)),
  });
}

/** The status headers with INTERNAL "parse …" turned into INVALID_ARGUMENT. */
function mapped(headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  if (String(headers['grpc-status']) !== String(Code.Internal)) return headers;
  const message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
  const err = new ConnectError(message, Code.Internal);
  if (!isUndecodableRequest(err)) return headers;
  return { ...headers, 'grpc-status': String(Code.InvalidArgument) };
}
