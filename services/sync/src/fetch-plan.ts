import { toHex } from '@vitrine/crypto';

/**
 * The chunks one fetch round is after, shared out among the peers that may hold them.
 * Each peer takes small batches as it goes, so a faster peer takes more and every peer
 * holding the content serves part of it. A chunk a peer lacks goes back for another peer;
 * a peer that leaves (it failed, or holds nothing asked) gives back what it had not
 * delivered. A chunk no remaining peer can be asked for is left to the next round.
 */
export class FetchPlan {
  /** Chunks no peer is asked for right now, by hex digest, oldest first. */
  readonly #waiting = new Map<string, Uint8Array>();
  /** Chunks asked of each peer and not yet stored or declined, by hex digest. */
  readonly #asked = new Map<string, Map<string, Uint8Array>>();
  /** Peers that said they lack a chunk, by hex digest. */
  readonly #lacking = new Map<string, Set<string>>();
  readonly #peers: Set<string>;
  #changed = signal();
  #stored = 0;

  constructor(digests: readonly Uint8Array[], peers: readonly string[]) {
    this.#peers = new Set(peers);
    for (const peer of peers) this.#asked.set(peer, new Map());
    for (const digest of digests) this.#waiting.set(toHex(digest), digest);
    if (this.#peers.size === 0) this.#waiting.clear();
  }

  /** Chunks stored in this round so far. */
  get storedCount(): number {
    return this.#stored;
  }

  /**
   * Up to `max` chunks for `peer` to fetch now, marked as asked of it — and no more than its
   * share of those waiting, so a round smaller than a few batches still goes to every peer.
   * Waits while none are left for it but chunks asked of other peers may still come back;
   * resolves empty once the round has nothing more for this peer.
   */
  async next(peer: string, max: number): Promise<Uint8Array[]> {
    for (;;) {
      const asked = this.#asked.get(peer);
      if (!asked || !this.#peers.has(peer)) return [];
      const batch: Uint8Array[] = [];
      const take = Math.min(max, Math.ceil(this.#waiting.size / this.#peers.size));
      for (const [hex, digest] of this.#waiting) {
        if (batch.length === take) break;
        if (this.#lacking.get(hex)?.has(peer)) continue;
        this.#waiting.delete(hex);
        asked.set(hex, digest);
        batch.push(digest);
      }
      if (batch.length > 0) return batch;
      if (!this.#mayComeBackTo(peer)) return [];
      await this.#changed.promise;
    }
  }

  /** `peer` delivered `digest` and it is stored. */
  stored(peer: string, digest: Uint8Array): void {
    if (this.#asked.get(peer)?.delete(toHex(digest))) this.#stored++;
    this.#notify();
  }

  /** `peer` does not hold `digest`: another peer is asked, if one may still hold it. */
  lacks(peer: string, digest: Uint8Array): void {
    const hex = toHex(digest);
    if (!this.#asked.get(peer)?.delete(hex)) return;
    const lacking = this.#lacking.get(hex) ?? new Set<string>();
    lacking.add(peer);
    this.#lacking.set(hex, lacking);
    this.#giveBack(hex, digest);
    this.#notify();
  }

  /** `peer` takes no further part in this round; what it was asked and did not deliver goes back. */
  leave(peer: string): void {
    if (!this.#peers.delete(peer)) return;
    for (const [hex, digest] of this.#asked.get(peer) ?? []) this.#giveBack(hex, digest);
    this.#asked.delete(peer);
    for (const [hex] of this.#waiting) {
      if (!this.#askable(hex)) this.#waiting.delete(hex);
    }
    this.#notify();
  }

  #giveBack(hex: string, digest: Uint8Array): void {
    if (this.#askable(hex)) this.#waiting.set(hex, digest);
  }

  /** True while a peer still in the round has not said it lacks this chunk. */
  #askable(hex: string): boolean {
    const lacking = this.#lacking.get(hex);
    for (const peer of this.#peers) if (!lacking?.has(peer)) return true;
    return false;
  }

  /** True if a chunk now asked of another peer could still come back for `peer`. */
  #mayComeBackTo(peer: string): boolean {
    for (const [other, asked] of this.#asked) {
      if (other === peer) continue;
      for (const hex of asked.keys()) if (!this.#lacking.get(hex)?.has(peer)) return true;
    }
    return false;
  }

  #notify(): void {
    this.#changed.resolve();
    this.#changed = signal();
  }
}

/** A promise with its resolve function: one change of the plan, awaited by idle peers. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
