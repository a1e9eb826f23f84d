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

/** An event as it arrives from a peer; `held` is the receiver's verified copy, if it has one. */
export interface ReceivedEvent {
  readonly headerBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** Absent where the event's residency withholds the body from the receiver. */
  readonly bodyBytes: Uint8Array | undefined;
  readonly held?: HeldEvent | undefined;
}

/** Events opened from a batch, in order, up to the first one refused; and why it was. */
export interface OpenedEvents {
  readonly opened: SealedEvent[];
  /** Set when an event was refused: `opened` holds exactly the events before it. */
  readonly refusal?: unknown;
}

/** A received header decoded and checked, with its digest and its origin's key. */
interface Decoded {
  readonly header: EventHeader;
  readonly digest: Uint8Array;
  readonly key: Uint8Array;
}

/**
 * Verifies a batch of events received from anywhere and decodes them, in order, stopping at
 * the first one refused (`data_loss`). Checklist for each: header decodable; origin,
 * sequence and body digest present; origin known; header vouched for by its origin's key;
 * body (when present) matches the signed digest and decodes.
 *
 * A header is vouched for by its own signature, or by the hash chain: the next event of the
 * same origin in the batch, itself vouched for, names this header's digest as `prevDigest`
 * (an origin's signature covers its whole chain back). So a run of one origin's events costs
 * one signature check, on its last event, instead of one per event; an event whose successor
 * does not link to it, or that ends its run, has its own signature checked. A copy of an
 * event the receiver holds (`held`: header and signature byte for byte the same) is vouched
 * for by the receiver's earlier check.
 */
export async function openEvents(
  events: readonly ReceivedEvent[],
  originKey: (origin: string) => Uint8Array | undefined,
): Promise<OpenedEvents> {
  const decoded: Decoded[] = [];
  let refusal: { error: unknown } | undefined;
  for (const event of events) {
    try {
      decoded.push(decodeHeader(event.headerBytes, originKey));
    } catch (error) {
      refusal = { error };
      break;
    }
  }
  const unvouched = await vouch(events, decoded);
  const opened: SealedEvent[] = [];
  for (const [i, { header, digest }] of decoded.entries()) {
    const { headerBytes, signature, bodyBytes } = events[i] as ReceivedEvent;
    try {
      if (unvouched.has(i)) throw unvouched.get(i);
      const body = bodyBytes === undefined ? undefined : decodeBody(header, bodyBytes);
      opened.push({ header, headerBytes, signature, body, bodyBytes, digest });
    } catch (error) {
      return { opened, refusal: error };
    }
  }
  return refusal === undefined ? { opened } : { opened, refusal: refusal.error };
}

/**
 * Decides, from the last event back, which headers are vouched for (see {@link openEvents});
 * returns the signature failure of each one that is not.
 */
async function vouch(
  events: readonly ReceivedEvent[],
  decoded: readonly Decoded[],
): Promise<Map<number, unknown>> {
  /** Per origin, the nearest later event vouched for: what an earlier one may chain to. */
  const vouchedNext = new Map<string, EventHeader>();
  const failures = new Map<number, unknown>();
  for (let i = decoded.length - 1; i >= 0; i--) {
    const { header, digest, key } = decoded[i] as Decoded;
    const { headerBytes, signature, held } = events[i] as ReceivedEvent;
    const next = vouchedNext.get(header.origin);
    const chained =
      next !== undefined && next.seq === header.seq + 1n && bytesEqual(next.prevDigest, digest);
    const copyOfHeld =
      held !== undefined &&
      bytesEqual(held.digest, digest) &&
      bytesEqual(held.signature, signature);
    if (!chained && !copyOfHeld) {
      try {
        await verifyDetached(key, EVENT_SIGNATURE_DOMAIN, headerBytes, signature);
      } catch (error) {
        failures.set(i, error);
        vouchedNext.delete(header.origin);
        continue;
      }
    }
    vouchedNext.set(header.origin, header);
  }
  return failures;
}

/**
 * Verifies one event received from anywhere against its origin's public key and decodes it
 * (the checklist of {@link openEvents}, where a lone event is vouched for by its own
 * signature). Throws `data_loss` for anything that fails.
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
  const { opened, refusal } = await openEvents(
    [{ headerBytes, signature, bodyBytes, held }],
    originKey,
  );
  const [event] = opened;
  if (refusal !== undefined || event === undefined) throw refusal;
  return event;
}

function decodeHeader(
  headerBytes: Uint8Array,
  originKey: (origin: string) => Uint8Array | undefined,
): Decoded {
  const header = decode(EventHeaderSchema, headerBytes, 'EventHeader');
  if (!header.origin || header.seq < 1n || header.bodyDigest.length !== 32) {
    throw new VitrineError('data_loss', 'event header lacks origin, sequence or body digest');
  }
  const key = originKey(header.origin);
  if (!key) throw new VitrineError('data_loss', `event origin ${header.origin} is not known`);
  return { header, digest: sha256(headerBytes), key };
}

function decodeBody(header: EventHeader, bodyBytes: Uint8Array): EventBody {
  if (!bytesEqual(sha256(bodyBytes), header.bodyDigest)) {
    throw new VitrineError(
      'data_loss',
      `event ${header.origin}/${header.seq} body does not match its header`,
    );
  }
  return decode(EventBodySchema, bodyBytes, 'EventBody');
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
