import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  bytesEqual,
  type SigningKeyPair,
  sha256,
  signDetached,
  verifyDetached,
} from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { type Event, EventSchema } from '@vitrine/proto/event';

/** Domain prefix of every event signature (DESIGN.md: protobuf binary behind a prefix). */
export const EVENT_SIGNATURE_DOMAIN = 'vitrine/event/v1\n';

/** An event as stored and replicated: the exact bytes its origin signed, and their digest. */
export interface SealedEvent {
  readonly event: Event;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
  /** SHA-256 of `bytes`; the next event of the same origin names it as `prevDigest`. */
  readonly digest: Uint8Array;
}

/** Encodes and signs an event with its origin's key. */
export async function sealEvent(event: Event, key: SigningKeyPair): Promise<SealedEvent> {
  const bytes = toBinary(EventSchema, event);
  const signature = await signDetached(key, EVENT_SIGNATURE_DOMAIN, bytes);
  return { event, bytes, signature, digest: sha256(bytes) };
}

/**
 * Verifies an event received from anywhere against its origin's public key and decodes it.
 * Checklist: decodable, origin and sequence present, origin as claimed, signature by the
 * origin's key. Throws `data_loss` for anything that fails.
 */
export async function openEvent(
  bytes: Uint8Array,
  signature: Uint8Array,
  originKey: (origin: string) => Uint8Array | undefined,
): Promise<SealedEvent> {
  let event: Event;
  try {
    event = fromBinary(EventSchema, bytes);
  } catch (cause) {
    throw new VitrineError('data_loss', 'event is not a valid vitrine.registry.v1.Event', {
      cause,
    });
  }
  if (!event.origin || event.seq < 1n || event.body.case === undefined) {
    throw new VitrineError('data_loss', 'event lacks origin, sequence or body');
  }
  const key = originKey(event.origin);
  if (!key) throw new VitrineError('data_loss', `event origin ${event.origin} is not known`);
  await verifyDetached(key, EVENT_SIGNATURE_DOMAIN, bytes, signature);
  return { event, bytes, signature, digest: sha256(bytes) };
}

/** Checks that `next` follows `prevDigest` in its origin's hash chain. */
export function assertChained(next: Event, prevDigest: Uint8Array): void {
  if (!bytesEqual(next.prevDigest, prevDigest)) {
    throw new VitrineError(
      'data_loss',
      `event ${next.origin}/${next.seq} does not follow the previous event of its origin`,
    );
  }
}
