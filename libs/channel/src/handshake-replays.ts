import { toHex } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';

/** How far a handshake request's timestamp may be from the responder's clock, either way. */
export const HANDSHAKE_SKEW_MS = 60_000;

/** Most nonces remembered at once; the window's worth of handshakes from every peer. */
const DEFAULT_CAPACITY = 100_000;

/** What a responder's replay cache is set with; defaults suit a federation of a few centers. */
export interface HandshakeReplayOptions {
  readonly skewMs?: number;
  readonly capacity?: number;
}

/**
 * Freshness for handshake requests, on the responder's side: a request's signed timestamp
 * must lie within the skew window of this clock, and its nonce must not have been answered
 * inside that window. A captured request is then refused (`unauthenticated`) before it
 * costs a verification, a signature, a key exchange and a held session, whether it comes
 * back at once or later. Nonces are remembered only once their request's signature has
 * verified, so nobody but a member can fill the cache; a full cache refuses new handshakes
 * (`resource_exhausted`) rather than forget a nonce still inside the window.
 */
export class HandshakeReplays {
  readonly skewMs: number;
  readonly #capacity: number;
  /** Nonce (hex) → when it leaves the window, in milliseconds. */
  readonly #seen = new Map<string, number>();

  constructor(options: HandshakeReplayOptions = {}) {
    this.skewMs = options.skewMs ?? HANDSHAKE_SKEW_MS;
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
  }

  /** Refuses a request that is stale, from the future or already answered; checks only. */
  check(nonce: Uint8Array, timestampMs: bigint, now: number): void {
    const at = Number(timestampMs);
    if (!Number.isSafeInteger(at) || Math.abs(now - at) > this.skewMs) {
      throw new VitrineError(
        'unauthenticated',
        `handshake request is not fresh: its timestamp is more than ${this.skewMs / 1000} s from this center's clock`,
      );
    }
    if (this.#seen.has(toHex(nonce))) {
      throw new VitrineError('unauthenticated', 'handshake request replayed');
    }
  }

  /**
   * Remembers the nonce of a request whose signature verified, until it leaves the
   * window; refuses it if a copy verified meanwhile (two sent at once).
   */
  remember(nonce: Uint8Array, timestampMs: bigint, now: number): void {
    const key = toHex(nonce);
    if (this.#seen.has(key))
      throw new VitrineError('unauthenticated', 'handshake request replayed');
    if (this.#seen.size >= this.#capacity) this.#forgetExpired(now);
    if (this.#seen.size >= this.#capacity) {
      throw new VitrineError('resource_exhausted', 'too many handshakes: try again shortly');
    }
    this.#seen.set(key, Number(timestampMs) + this.skewMs);
  }

  #forgetExpired(now: number): void {
    for (const [nonce, until] of this.#seen) if (until < now) this.#seen.delete(nonce);
  }
}
