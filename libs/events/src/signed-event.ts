import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import {
  bytesEqual,
  type SigningKeyPair,
  sha256,
  signDetached,
  verifyDetached,
} from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import {
  type EventBody,
  EventBodySchema,
  type EventHeader,
  EventHeaderSchema,
} from '@vitrine/proto/event';

/** Domain prefix of every event signature (DESIGN.md: protobuf binary behind a prefix). */
export const EVENT_SIGNATURE_DOMAIN = 'vitrine/event/v1\n';

/** The header fields an origin chooses; the body digest is computed when sealing. */
export type HeaderFields = Pick<EventHeader, 'origin' | 'seq' | 'hlc' | 'prevDigest' | 'residency'>;

/**
 * An event as stored and replicated: the exact header bytes its origin signed, the body
 * bytes (absent where residency withholds them) and the header digest the next event of
 * the same origin names as `prevDigest`.
 */
export interface SealedEvent {
  readonly header: EventHeader;
  readonly headerBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly body: EventBody | undefined;
  readonly bodyBytes: Uint8Array | undefined;
  readonly digest: Uint8Array;
}

/** Encodes the body, names it in the header, and signs the header with the origin's key. */
export async function sealEvent(
  fields: HeaderFields,
  body: EventBody,
  key: SigningKeyPair,
): Promise<SealedEvent> {
  const bodyBytes = toBinary(EventBodySchema, body);
  const header = create(EventHeaderSchema, { ...fields, bodyDigest: sha256(bodyBytes) });
  const headerBytes = toBinary(EventHeaderSchema, header);
  const signature = await signDetached(key, EVENT_SIGNATURE_DOMAIN, headerBytes);
  return { header, headerBytes, signature, body, bodyBytes, digest: sha256(headerBytes) };
}

/** A copy of an event its receiver already holds: the header digest and signature it verified. */
export interface HeldEvent {
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Verifies an event received from anywhere against its origin's public key and decodes it.
 * Checklist, in order: header decodable; origin, sequence and body digest present; origin
 * known; signature by the origin's key; body (when present) matches the signed digest and
 * decodes. Throws `data_loss` for anything that fails.
 *
 * `held` is the receiver's verified copy of the event with the same origin and sequence, if
 * any: when the header and signature are byte for byte that copy's, the signature is not
 * verified again (events reach a center once per peer that forwards them); every other
 * check still runs.
 */
export async function openEvent(
  headerBytes: Uint8Array,
  signature: Uint8Array,
  bodyBytes: Uint8Array | undefined,
  originKey: (origin: string) => Uint8Array | undefined,
  held?: HeldEvent,
): Promise<SealedEvent> {
  const header = decode(EventHeaderSchema, headerBytes, 'EventHeader');
  if (!header.origin || header.seq < 1n || header.bodyDigest.length !== 32) {
    throw new VitrineError('data_loss', 'event header lacks origin, sequence or body digest');
  }
  const key = originKey(header.origin);
  if (!key) throw new VitrineError('data_loss', `event origin ${header.origin} is not known`);
  const digest = sha256(headerBytes);
  const copyOfHeld =
    held !== undefined && bytesEqual(held.digest, digest) && bytesEqual(held.signature, signature);
  if (!copyOfHeld) await verifyDetached(key, EVENT_SIGNATURE_DOMAIN, headerBytes, signature);
  let body: EventBody | undefined;
  if (bodyBytes !== undefined) {
    if (!bytesEqual(sha256(bodyBytes), header.bodyDigest)) {
      throw new VitrineError(
        'data_loss',
        `event ${header.origin}/${header.seq} body does not match its header`,
      );
    }
    body = decode(EventBodySchema, bodyBytes, 'EventBody');
  }
  return { header, headerBytes, signature, body, bodyBytes, digest };
}

/** Checks that `next` follows `prevDigest` in its origin's hash chain. */
export function assertChained(next: EventHeader, prevDigest: Uint8Array): void {
  if (!bytesEqual(next.prevDigest, prevDigest)) {
    throw new VitrineError(
      'data_loss',
      `event ${next.origin}/${next.seq} does not follow the previous event of its origin`,
    );
  }
}

function decode<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  what: string,
): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (cause) {
    throw new VitrineError('data_loss', `event is not a valid vitrine.registry.v1.${what}`, {
      cause,
    });
  }
}
