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
 * The direct path is put together from Connect's own protocol parts wherever they fit
 * (timeout parsing, envelope splitting, message parsing, trailer status with error
 * details) and is split by concern: `routing.ts` chooses the calls it serves,
 * `call.ts` runs one call to its end, `request.ts` reads the request, `response.ts`
 * writes to HTTP/2, and `call-telemetry.ts` observes each call.
 */
import type { DescMessage, DescMethodServerStreaming, MessageShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

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

/** The pieces of one message joined into its encoding (without a copy when there is one). */
export function joined(pieces: readonly Uint8Array[]): Uint8Array {
  return pieces.length === 1 && pieces[0] !== undefined ? pieces[0] : Buffer.concat(pieces);
}
