import type { HeldEvent } from '@vitrine/events';

/**
 * The body a center took with an event: the body digest its header signs, or `withheld`
 * where the event's residency keeps the body from this center.
 */
export type TakenBody = { readonly digest: Uint8Array } | 'withheld';

/** An event taken lately, as a later copy of it must look to be recognised unopened. */
export interface TakenEvent {
  readonly signature: Uint8Array;
  readonly body: TakenBody;
}

interface Entry extends HeldEvent {
  /** Hex of the header digest: the key of `#byDigest`. */
  readonly digestKey: string;
  readonly taken: TakenEvent | undefined;
}

/**
 * The header digest and signature of the events a center took most recently, by origin and
 * sequence. An event reaches a center once per peer that forwards it, the later copies
 * usually within moments of the first: they are recognised here without a query. Events
 * this center took itself (not merely looked up) are also found by header digest with the
 * body they came with, so a byte-identical copy needs no decoding at all. Holds at most
 * `capacity` events (the oldest are forgotten; a forgotten one is looked up instead).
 */
export class RecentEvents {
  readonly #byPosition = new Map<string, Entry>();
  readonly #byDigest = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  /** The copy taken of `origin`/`seq`, if it is among the recent ones. */
  get(origin: string, seq: bigint): HeldEvent | undefined {
    return this.#byPosition.get(`${origin}/${seq}`);
  }

  /** The event taken whose header has `headerDigest`, if this center took it lately. */
  taken(headerDigest: Uint8Array): TakenEvent | undefined {
    return this.#byDigest.get(Buffer.from(headerDigest).toString('hex'))?.taken;
  }

  /**
   * Remembers an event this center holds; `taken` when this center took it just now (so
   * the body it came with is known), not when it was merely looked up.
   */
  remember(origin: string, seq: bigint, held: HeldEvent, taken?: TakenEvent): void {
    const key = `${origin}/${seq}`;
    this.#forget(key);
    const digestKey = Buffer.from(held.digest).toString('hex');
    const entry: Entry = { digest: held.digest, signature: held.signature, digestKey, taken };
    this.#byPosition.set(key, entry);
    if (taken) this.#byDigest.set(digestKey, entry);
    if (this.#byPosition.size > this.capacity) {
      const oldest = this.#byPosition.keys().next();
      if (!oldest.done) this.#forget(oldest.value);
    }
  }

  #forget(key: string): void {
    const entry = this.#byPosition.get(key);
    if (!entry) return;
    this.#byPosition.delete(key);
    if (this.#byDigest.get(entry.digestKey) === entry) this.#byDigest.delete(entry.digestKey);
  }
}
