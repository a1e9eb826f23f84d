import { fromBinary } from '@bufbuild/protobuf';
import { bytesEqual, sha256, toHex, verifyDetached } from '@vitrine/crypto';
import { EVENT_SIGNATURE_DOMAIN } from '@vitrine/events';
import {
  type EventBody,
  EventBodySchema,
  type EventHeader,
  EventHeaderSchema,
} from '@vitrine/proto/event';

/** An event as signed: header bytes, the origin's signature, and its body where held. */
export interface SignedEventBytes {
  readonly header: Uint8Array;
  readonly signature: Uint8Array;
  readonly body: Uint8Array;
}

/** What checking one event found. */
export interface CheckedEvent {
  readonly origin: string;
  readonly seq: number;
  readonly header?: EventHeader;
  readonly body?: EventBody;
  /** `linked`: its prev_digest is the previous header's SHA-256; `gap`: events between
   * it and the previous one were not seen; `first`: nothing before it was seen. */
  readonly link: 'linked' | 'gap' | 'first';
  /** Every check that failed, in words; empty when all held. */
  readonly problems: readonly string[];
}

/** What an event's body is about, in a few words (`findingCreated europe-3`). */
export function describeBody(body: EventBody | undefined): string {
  const change = body?.change;
  switch (change?.case) {
    case 'artifactPublished':
      return `artifactPublished ${change.value.artifactId}`;
    case 'findingCreated':
    case 'findingUpdated':
    case 'commentAdded':
      return `${change.case} ${change.value.findingId}`;
    case 'accessUsed':
      return `accessUsed ${change.value.method.split('/').pop()} by ${change.value.principal}`;
    default:
      return body === undefined ? 'body withheld' : 'unknown change';
  }
}

/**
 * Checks one origin's events in sequence order as they come: each header decodes and names
 * the origin, the origin's Ed25519 signature over `"vitrine/event/v1\n" ‖ header`, the hash
 * chain (prev_digest is the SHA-256 of the previous header when the previous sequence was
 * seen; empty for sequence 1), and a body, where present, against the header's digest.
 */
export class EventChain {
  #prev: { seq: bigint; digest: Uint8Array } | undefined;

  constructor(
    private readonly origin: string,
    private readonly publicKey: Uint8Array,
  ) {}

  async check(event: SignedEventBytes): Promise<CheckedEvent> {
    const problems: string[] = [];
    let header: EventHeader;
    try {
      header = fromBinary(EventHeaderSchema, event.header);
    } catch (err) {
      return {
        origin: this.origin,
        seq: 0,
        link: 'first',
        problems: [`header does not decode: ${(err as Error).message}`],
      };
    }
    if (header.origin !== this.origin)
      problems.push(`event of ${header.origin}, not ${this.origin}`);
    try {
      await verifyDetached(this.publicKey, EVENT_SIGNATURE_DOMAIN, event.header, event.signature);
    } catch {
      problems.push(`signature by ${this.origin} does not verify`);
    }
    let link: CheckedEvent['link'] = 'first';
    if (header.seq === 1n) {
      link = 'linked';
      if (header.prevDigest.length !== 0) problems.push('the first event names a previous one');
    } else if (this.#prev !== undefined && header.seq === this.#prev.seq + 1n) {
      link = 'linked';
      if (!bytesEqual(header.prevDigest, this.#prev.digest)) {
        problems.push(
          `chain broken: prev_digest ${toHex(header.prevDigest)} is not event ${this.#prev.seq}'s ${toHex(this.#prev.digest)}`,
        );
      }
    } else if (this.#prev !== undefined) {
      link = header.seq > this.#prev.seq ? 'gap' : 'first';
      if (header.seq <= this.#prev.seq)
        problems.push(`event ${header.seq} after ${this.#prev.seq}`);
    }
    let body: EventBody | undefined;
    if (event.body.length > 0) {
      if (!bytesEqual(sha256(event.body), header.bodyDigest)) {
        problems.push(
          `body SHA-256 ${toHex(sha256(event.body))} is not the header's ${toHex(header.bodyDigest)}`,
        );
      } else {
        try {
          body = fromBinary(EventBodySchema, event.body);
        } catch (err) {
          problems.push(`body does not decode: ${(err as Error).message}`);
        }
      }
    }
    this.#prev = { seq: header.seq, digest: sha256(event.header) };
    return {
      origin: this.origin,
      seq: Number(header.seq),
      header,
      ...(body ? { body } : {}),
      link,
      problems,
    };
  }
}
