/**
 * Which calls the direct path serves: gRPC (binary) over HTTP/2 to a method registered as
 * an encoded stream. Every other request — another method, another protocol, HTTP/1.1 —
 * goes to Connect, which serves the same encoded streams too, from their pieces joined.
 */
import type * as http2 from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { assertByteStreamRequest, createMethodUrl } from '@connectrpc/connect/protocol';
import { parseContentType } from '@connectrpc/connect/protocol-grpc';
import { universalRequestFromNodeRequest } from '@connectrpc/connect-node';
import type { RequestHandler } from '../protocol-listener.js';
import { type CallOptions, type CallRequest, serveCall } from './call.js';
import { callTelemetry } from './call-telemetry.js';
import { type EncodedStream, joined } from './encoded-stream.js';
import { requestReader } from './request.js';

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
export interface EncodedStreamOptions extends CallOptions {
  readonly readMaxBytes: number;
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
  const observe = callTelemetry();
  const routes = new Map(
    streams.map((stream) => {
      const read = requestReader(stream.method, options.readMaxBytes);
      return [createMethodUrl('/', stream.method), { stream, read }] as const;
    }),
  );
  return (req, res) => {
    const route = req.httpVersionMajor === 2 ? routes.get(pathOf(req.url)) : undefined;
    const request =
      route !== undefined && req.method === 'POST' && isGrpcBinary(req.headers['content-type'])
        ? callRequest(req as http2.Http2ServerRequest, res as http2.Http2ServerResponse)
        : undefined;
    if (route === undefined || request === undefined) {
      next(req, res);
      return;
    }
    observe(route.stream.method, request.header, () =>
      serveCall(route.stream, route.read, request, res as http2.Http2ServerResponse, options),
    );
  };
}

/**
 * The call's headers, body and caller-gone signal, as Connect's node adapter reads them;
 * undefined for a request it cannot read (which Connect then answers itself).
 */
function callRequest(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
): CallRequest | undefined {
  try {
    const request = universalRequestFromNodeRequest(req, res, undefined, undefined);
    assertByteStreamRequest(request);
    return request;
  } catch {
    return undefined;
  }
}

function isGrpcBinary(contentType: string | undefined): boolean {
  return parseContentType(contentType ?? null)?.binary === true;
}

function pathOf(url: string | undefined): string {
  return (url ?? '').split('?', 1)[0] ?? '';
}
