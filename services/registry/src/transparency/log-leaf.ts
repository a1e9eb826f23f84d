import { create, toBinary } from '@bufbuild/protobuf';
import { SignedEventSchema } from '@vitrine/proto/event';

/**
 * A transparency-log leaf: the event's header bytes exactly as its origin signed them and
 * the origin's signature, encoded as a `SignedEvent` without its body (field 1 header,
 * field 2 signature, in that order). A leaf thus commits to the signature and, through the
 * header's body digest, to the body — but never holds one, so every center can serve it.
 */
export function logLeaf(header: Uint8Array, signature: Uint8Array): Uint8Array {
  return toBinary(SignedEventSchema, create(SignedEventSchema, { header, signature }));
}
