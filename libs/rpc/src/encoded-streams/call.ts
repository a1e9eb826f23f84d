/**
 * One server stream served directly, from its request to its status: the call ends when
 * the caller goes away, its grpc-timeout passes or the server shuts down — whichever comes
 * first (signals linked by Connect's helpers) — and whatever it ended with is mapped to a
 * status the way every other call's is.
 */
import type * as http2 from 'node:http2';
import type { ConnectError } from '@connectrpc/connect';
import { createDeadlineSignal, createLinkedAbortController } from '@connectrpc/connect/protocol';
import { headerTimeout, parseTimeout } from '@connectrpc/connect/protocol-grpc';
import { toConnectError } from '../error-interceptor.js';
import type { Logger } from '../logger.js';
import type { EncodedStream } from './encoded-stream.js';
import type { RequestReader } from './request.js';
import { beginResponse, endResponse, writeMessage } from './response.js';

/** What a call needs of the server it runs in. */
export interface CallOptions {
  readonly logger: Logger;
  /** Aborted when the server shuts down; calls in flight end with its reason. */
  readonly shutdownSignal: AbortSignal;
}

/** A call's request as Connect's node adapter reads it. */
export interface CallRequest {
  readonly header: Headers;
  readonly body: AsyncIterable<Uint8Array>;
  /** Aborted when the caller goes away. */
  readonly signal: AbortSignal;
}

/**
 * Serves one call to the end: its request read and decoded, its responses written as they
 * come, the status in the trailers. Resolves with the error the call ended with, if any.
 */
export async function serveCall<I extends EncodedStream>(
  stream: I,
  read: RequestReader<I['method']['input']>,
  request: CallRequest,
  res: http2.Http2ServerResponse,
  options: CallOptions,
): Promise<ConnectError | undefined> {
  const timeout = parseTimeout(request.header.get(headerTimeout), Number.MAX_SAFE_INTEGER);
  const deadline = createDeadlineSignal(timeout.timeoutMs);
  const call = createLinkedAbortController(options.shutdownSignal, request.signal, deadline.signal);
  const { signal } = call;
  try {
    if (timeout.error !== undefined) throw timeout.error;
    signal.throwIfAborted();
    beginResponse(res);
    const message = await read(request.body, request.header, signal);
    for await (const pieces of stream.serve(message, signal)) {
      signal.throwIfAborted();
      await writeMessage(res, pieces, signal);
    }
    signal.throwIfAborted();
    endResponse(res);
    return undefined;
  } catch (err) {
    // Once the call has ended (caller gone, deadline, shutdown), that is its outcome,
    // whatever the handler or the request stream threw on the way out.
    const status = toConnectError(signal.aborted ? signal.reason : err, options.logger, signal);
    try {
      if (!res.closed && !res.stream.destroyed) endResponse(res, status);
    } catch {
      res.stream.destroy();
    }
    return status;
  } finally {
    deadline.cleanup();
    // Lets go of the server's shutdown signal; the handler has returned by now.
    if (!signal.aborted) call.abort(new Error('call finished'));
  }
}
