/**
 * Reading the one request message of a server stream served directly, with Connect's
 * envelope splitter, decompression step and message parser: the same limits and the same
 * messages as Connect's gRPC handler gives every other method on the port.
 */
import type { DescMessage, DescMethodServerStreaming, MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  compressionNegotiate,
  createMethodSerializationLookup,
  type EnvelopedMessage,
  envelopeDecompress,
  pipe,
  transformSplitEnvelope,
  validateReadWriteMaxBytes,
} from '@connectrpc/connect/protocol';
import { headerAcceptEncoding, headerEncoding } from '@connectrpc/connect/protocol-grpc';

/** Reads and decodes a call's one request message from its body. */
export type RequestReader<I extends DescMessage> = (
  body: AsyncIterable<Uint8Array>,
  header: Headers,
  signal: AbortSignal,
) => Promise<MessageShape<I>>;

/**
 * A reader of `method`'s request: `invalid_argument` for no message, a cut-off or an
 * extra one, or bytes that do not decode ("parse binary: …", which the error mapping turns
 * from Connect's INTERNAL into INVALID_ARGUMENT); `resource_exhausted` past `readMaxBytes`
 * (said by the length prefix, before the bytes are read); `internal` for a compressed
 * message and `unimplemented` for a compression announced, since none is accepted.
 */
export function requestReader<I extends DescMessage>(
  method: DescMethodServerStreaming<I, DescMessage>,
  readMaxBytes: number,
): RequestReader<I> {
  const limits = validateReadWriteMaxBytes(readMaxBytes, undefined, undefined);
  const input = createMethodSerializationLookup(method, undefined, undefined, limits).getI(true);
  return async (body, header, signal) => {
    const compression = compressionNegotiate(
      [],
      header.get(headerEncoding),
      header.get(headerAcceptEncoding),
      headerAcceptEncoding,
    );
    if (compression.error !== undefined) throw compression.error;
    let first: EnvelopedMessage | undefined;
    for await (const envelope of pipe(body, transformSplitEnvelope(readMaxBytes))) {
      signal.throwIfAborted();
      if (first !== undefined) {
        throw new ConnectError(
          'protocol error: received extra input message for server-streaming method',
          Code.InvalidArgument,
        );
      }
      first = envelope;
    }
    signal.throwIfAborted();
    if (first === undefined) {
      throw new ConnectError(
        'protocol error: missing input message for server-streaming method',
        Code.InvalidArgument,
      );
    }
    const { data } = await envelopeDecompress(first, null, readMaxBytes);
    return input.parse(data);
  };
}
