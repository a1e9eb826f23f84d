import { type DescMessage, type Message, toBinary } from '@bufbuild/protobuf';
import type { StreamRequest, UnaryRequest } from '@connectrpc/connect';
import { sha256 } from '@vitrine/crypto';

type Call = UnaryRequest<DescMessage, DescMessage> | StreamRequest<DescMessage, DescMessage>;

/**
 * The request digest a proof signs: SHA-256 over the deterministic protobuf encoding of a
 * request message — known fields only, in field-number order, fields without explicit
 * presence left out at their default. Sender and verifier each encode the message they
 * hold, so the digest does not depend on how a client wrote its bytes on the wire (explicit
 * defaults, field order, unknown fields); it equals Go's `proto.MarshalOptions{Deterministic:
 * true}` and Python's `SerializeToString(deterministic=True)` of the same message. No request
 * message has a map field, whose entries that encoding would sort by key.
 */
export function requestDigest(schema: DescMessage, message: Message | undefined): Uint8Array {
  return sha256(
    message ? toBinary(schema, message, { writeUnknownFields: false }) : new Uint8Array(),
  );
}

/**
 * The message a call's proof binds: the request of a unary or server-streaming call, the
 * first message of a client stream (PushArtifact's metadata). Reading a stream's first
 * message consumes it, so the call is returned with a stream that yields it again. A stream
 * that ends before its first message binds the empty message.
 */
export async function firstMessageOf<C extends Call>(
  call: C,
): Promise<{ readonly call: C; readonly message: Message | undefined }> {
  if (!call.stream) return { call, message: call.message as Message };
  const messages = call.message[Symbol.asyncIterator]();
  const first = await messages.next();
  if (first.done) return { call: { ...call, message: empty() }, message: undefined };
  return { call: { ...call, message: resumed(first.value, messages) }, message: first.value };
}

async function* resumed<T>(first: T, rest: AsyncIterator<T>): AsyncIterable<T> {
  yield first;
  yield* { [Symbol.asyncIterator]: () => rest };
}

async function* empty<T>(): AsyncIterable<T> {}
