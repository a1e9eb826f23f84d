/**
 * Encoded streams: server-streaming methods whose response messages are produced already
 * encoded, as pieces whose concatenation is each message's protobuf binary form (bytes
 * that lie elsewhere, such as a ciphertext sealed in parts, stay where they are).
 *
 * Over gRPC on HTTP/2 — what peers speak — the pieces are written straight to the stream
 * behind each message's 5-byte length prefix: nothing is joined, re-encoded or copied on
 * the way, where Connect's pipeline copies every message twice (protobuf encoding, then
 * the envelope). Every other protocol on the port (Connect, gRPC-Web, HTTP/1.1) gets the
 * same method through Connect, from the same pieces joined and decoded.
 *
 * The direct path keeps what Connect's gRPC handler does for a server stream: one
 * length-prefixed request message (at most readMaxBytes, uncompressed), the grpc-timeout
 * deadline, the server's shutdown signal, telemetry, domain errors mapped to statuses in
 * the trailers, and flow control (a response waits while HTTP/2 holds the peer's window).
 */
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import {
  type DescMessage,
  type DescMethodServerStreaming,
  fromBinary,
  type MessageShape,
} from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { context } from '@opentelemetry/api';
import { toConnectError } from './error-interceptor.js';
import type { Logger } from './logger.js';
import type { RequestHandler } from './protocol-listener.js';
import { serverCallTelemetry } from './telemetry-interceptors.js';

/** A server-streaming method whose responses are yielded as the pieces of their encoding. */
export interface EncodedStream<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> {
  readonly method: DescMethodServerStreaming<I, O>;
  /**
   * Serves one call: yields each response message as pieces whose concatenation is its
   * protobuf binary encoding. Stops when `signal` aborts (caller gone, deadline, shutdown).
   */
  serve(request: MessageShape<I>, signal: AbortSignal): AsyncIterable<readonly Uint8Array[]>;
}

/**
 * The encoding, in pieces, of a message whose one field set is the bytes field `field`
 * holding `pieces` joined: its tag and length, then the pieces as they are. (An empty
 * value is left out, as proto3 encoding does.)
 */
export function bytesFieldPieces(field: number, pieces: readonly Uint8Array[]): Uint8Array[] {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  if (length === 0) return [];
  const head = new BinaryWriter().tag(field, WireType.LengthDelimited).uint32(length).finish();
  return [head, ...pieces];
}

/** The gRPC content types the direct path answers; `+json` and the rest go to Connect. */
const GRPC_PROTO = /^application\/grpc(?:\+proto)?(?:;.*)?$/i;
/** Bytes before each gRPC message: a flags byte and its length, 32 bits big-endian. */
const PREFIX_BYTES = 5;
const FLAG_COMPRESSED = 0x01;
const RESPONSE_HEADERS = {
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity',
};
const MAX_MESSAGE_BYTES = 0xffff_ffff;
/** grpc-timeout units (gRPC over HTTP/2, "Timeout"), in milliseconds. */
const TIMEOUT_UNITS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** Registers each encoded stream with Connect, for the protocols the direct path leaves to it. */
export function routeEncodedStreams(router: ConnectRouter, streams: readonly EncodedStream[]) {
  for (const stream of streams) {
    router.rpc(stream.method, async function* (request, ctx) {
      for await (const pieces of stream.serve(request, ctx.signal)) {
        yield fromBinary(stream.method.output, joined(pieces));
      }
    });
  }
}

/** What the direct path needs of the server it runs in. */
export interface EncodedStreamOptions {
  readonly logger: Logger;
  readonly readMaxBytes: number;
  /** Aborted when the server shuts down; calls in flight end with its reason. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * A request handler in front of `next` (Connect's): gRPC calls over HTTP/2 to an encoded
 * stream are served directly, everything else is passed on untouched.
 */
export function encodedStreamHandler(
  streams: readonly EncodedStream[],
  options: EncodedStreamOptions,
  next: RequestHandler,
): RequestHandler {
  if (streams.length === 0) return next;
  const byPath = new Map(streams.map((s) => [`/${s.method.parent.typeName}/${s.method.name}`, s]));
  const telemetry = serverCallTelemetry();
  return (req, res) => {
    const stream = req.httpVersionMajor === 2 ? byPath.get(pathOf(req)) : undefined;
    if (stream === undefined || req.method !== 'POST' || !isGrpcProto(req)) {
      next(req, res);
      return;
    }
    const call = telemetry({
      service: stream.method.parent.typeName,
      method: stream.method.name,
      header: headersOf(req),
    });
    void context.with(call.context, () =>
      serveCall(
        stream,
        req as http2.Http2ServerRequest,
        res as http2.Http2ServerResponse,
        options,
      ).then(call.finish),
    );
  };
}

/**
 * Serves one call to the end: its request read and decoded, its responses written as they
 * come, the status in the trailers. Resolves with the error the call ended with, if any.
 */
async function serveCall(
  stream: EncodedStream,
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  options: EncodedStreamOptions,
): Promise<unknown> {
  const abort = new AbortController();
  const { signal } = abort;
  const end = (reason: ConnectError) => {
    if (!signal.aborted) abort.abort(reason);
  };
  const gone = () => end(new ConnectError('the caller went away', Code.Canceled));
  res.once('close', gone);
  const shutdown = () => end(ConnectError.from(options.shutdownSignal.reason, Code.Unavailable));
  options.shutdownSignal.addEventListener('abort', shutdown);
  let deadline: NodeJS.Timeout | undefined;
  try {
    if (options.shutdownSignal.aborted) shutdown();
    const timeoutMs = grpcTimeoutMs(req.headers['grpc-timeout']);
    if (timeoutMs !== undefined) {
      deadline = setTimeout(
        () => end(new ConnectError('the deadline was exceeded', Code.DeadlineExceeded)),
        timeoutMs,
      );
    }
    res.writeHead(200, {
      'content-type': 'application/grpc+proto',
      'grpc-accept-encoding': 'identity',
    });
    const request = await readRequest(stream, req, options.readMaxBytes, signal);
    for await (const pieces of stream.serve(request, signal)) {
      signal.throwIfAborted();
      await writeMessage(res, pieces, signal);
    }
    signal.throwIfAborted();
    sendStatus(res, 0, '');
    return undefined;
  } catch (err) {
    // Once the call has ended (caller gone, deadline, shutdown), that is its outcome,
    // whatever the handler or the request stream threw on the way out.
    const status = toConnectError(signal.aborted ? signal.reason : err, options.logger, signal);
    try {
      if (!res.closed && !res.stream.destroyed) sendStatus(res, status.code, status.rawMessage);
    } catch {
      res.stream.destroy();
    }
    return status;
  } finally {
    clearTimeout(deadline);
    res.off('close', gone);
    options.shutdownSignal.removeEventListener('abort', shutdown);
  }
}

/** Writes one response message, its length prefix then its pieces, waiting out flow control. */
async function writeMessage(
  res: http2.Http2ServerResponse,
  pieces: readonly Uint8Array[],
  signal: AbortSignal,
): Promise<void> {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  if (length > MAX_MESSAGE_BYTES) {
    throw new ConnectError(`response message of ${length} bytes is too large`, Code.Internal);
  }
  if (!res.headersSent) res.writeHead(200, RESPONSE_HEADERS);
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
 * Ends the response with its status (grpc-message percent-encoded): in the trailers, or in
 * the headers of a response that has sent none yet (gRPC's trailers-only form).
 */
function sendStatus(res: http2.Http2ServerResponse, code: number, message: string): void {
  const status: Record<string, string> = { 'grpc-status': String(code) };
  if (message !== '') status['grpc-message'] = encodeGrpcMessage(message);
  if (res.headersSent) res.addTrailers(status);
  else res.writeHead(200, { ...RESPONSE_HEADERS, ...status });
  res.end();
}

/**
 * Reads the call's one request message: `invalid_argument` for none, a cut-off or an
 * extra one, or bytes that do not decode; `resource_exhausted` past `readMaxBytes` (said
 * by the length prefix, before the bytes are read); `internal` for a compressed message
 * or `unimplemented` for a compression announced, since none is accepted.
 */
async function readRequest<I extends DescMessage>(
  stream: EncodedStream<I>,
  req: http2.Http2ServerRequest,
  readMaxBytes: number,
  signal: AbortSignal,
): Promise<MessageShape<I>> {
  const encoding = req.headers['grpc-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    throw new ConnectError(
      `unsupported grpc-encoding ${encoding}: send uncompressed`,
      Code.Unimplemented,
    );
  }
  const received: Buffer[] = [];
  let bytes = 0;
  let length: number | undefined;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    signal.throwIfAborted();
    received.push(chunk);
    bytes += chunk.length;
    if (bytes >= PREFIX_BYTES) {
      length ??= Buffer.concat(received).readUInt32BE(1);
      if (length > readMaxBytes) {
        throw new ConnectError(
          `request message of ${length} bytes is larger than the ${readMaxBytes} accepted`,
          Code.ResourceExhausted,
        );
      }
      if (bytes > PREFIX_BYTES + length) {
        throw new ConnectError(
          'protocol error: received extra input message for server-streaming method',
          Code.InvalidArgument,
        );
      }
    }
  }
  signal.throwIfAborted();
  const body = Buffer.concat(received);
  if (body.length === 0) {
    throw new ConnectError(
      'protocol error: missing input message for server-streaming method',
      Code.InvalidArgument,
    );
  }
  if (body.length < PREFIX_BYTES || body.length !== PREFIX_BYTES + body.readUInt32BE(1)) {
    throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  }
  if (((body[0] ?? 0) & FLAG_COMPRESSED) !== 0) {
    throw new ConnectError('received a compressed message without grpc-encoding', Code.Internal);
  }
  try {
    return fromBinary(stream.method.input, body.subarray(PREFIX_BYTES));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConnectError(`parse binary: ${reason}`, Code.InvalidArgument);
  }
}

/** The grpc-timeout header in milliseconds; `invalid_argument` for a malformed one. */
function grpcTimeoutMs(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(String(header));
  const unit = match?.[2] === undefined ? undefined : TIMEOUT_UNITS[match[2]];
  if (match === null || unit === undefined) {
    throw new ConnectError(`invalid grpc-timeout ${String(header)}`, Code.InvalidArgument);
  }
  return Number(match[1]) * unit;
}

/** Percent-encodes what grpc-message may not carry as it is (gRPC over HTTP/2). */
function encodeGrpcMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD in its place
    }
  });
}

function isGrpcProto(req: http.IncomingMessage | http2.Http2ServerRequest): boolean {
  return GRPC_PROTO.test(req.headers['content-type'] ?? '');
}

function pathOf(req: http.IncomingMessage | http2.Http2ServerRequest): string {
  return (req.url ?? '').split('?', 1)[0] ?? '';
}

/**
 * A request's headers as fetch Headers, for trace context; pseudo-headers, and any value
 * fetch Headers would refuse, left out.
 */
function headersOf(req: http.IncomingMessage | http2.Http2ServerRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    try {
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    } catch {
      // not a header trace context could be read from
    }
  }
  return headers;
}

function joined(pieces: readonly Uint8Array[]): Uint8Array {
  return pieces.length === 1 && pieces[0] !== undefined ? pieces[0] : Buffer.concat(pieces);
}
