import type { HeldEvent } from '@vitrine/events';

/**
 * The header digest and signature of the events a center took most recently, by origin and
 * sequence. An event reaches a center once per peer that forwards it, the later copies
 * usually within moments of the first: they are recognised here without a query. Holds at
 * most `capacity` events (the oldest are forgotten; a forgotten one is looked up instead).
 */
export class RecentEvents {
  readonly #byPosition = new Map<string, HeldEvent>();

  constructor(private readonly capacity: number) {}

  /** The copy taken of `origin`/`seq`, if it is among the recent ones. */
  get(origin: string, seq: bigint): HeldEvent | undefined {
    return this.#byPosition.get(`${origin}/${seq}`);
  }

  /** Remembers an event this center holds. */
  remember(origin: string, seq: bigint, held: HeldEvent): void {
    const key = `${origin}/${seq}`;
    this.#byPosition.delete(key);
    this.#byPosition.set(key, { digest: held.digest, signature: held.signature });
    if (this.#byPosition.size > this.capacity) {
      const oldest = this.#byPosition.keys().next();
      if (!oldest.done) this.#byPosition.delete(oldest.value);
    }
  }
}
