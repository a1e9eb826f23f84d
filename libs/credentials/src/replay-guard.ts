import { toHex } from '@vitrine/crypto';

/**
 * Where a verifier remembers the proofs it accepted, so each proof is accepted once. The key
 * is SHA-256 over the proof's binding and nonce (so one caller cannot spend another's
 * nonce); it is kept until the proof could no longer pass the freshness check. A center
 * keeps it in its database, so every registry process of the center shares it.
 */
export interface ReplayGuard {
  /** True (and remembered until `until`, unix ms) the first time `key` is seen before `until`. */
  admit(key: Uint8Array, until: number, now: number): Promise<boolean>;
}

/**
 * A replay guard in one process's memory: for a service that runs as a single process (the
 * access service) and for tests. Memory is bounded by the call rate times the skew window;
 * expired entries are dropped as new ones arrive.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #seen = new Map<string, number>();
  #nextSweep = 0;

  async admit(key: Uint8Array, until: number, now: number = Date.now()): Promise<boolean> {
    if (now >= this.#nextSweep) this.#sweep(now);
    const id = toHex(key);
    const known = this.#seen.get(id);
    if (known !== undefined && known > now) return false;
    this.#seen.set(id, until);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #sweep(now: number): void {
    for (const [id, until] of this.#seen) if (until <= now) this.#seen.delete(id);
    this.#nextSweep = now + 1_000;
  }
}
