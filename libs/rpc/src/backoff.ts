import { setTimeout as sleepFor } from 'node:timers/promises';

/** How long a reconnect loop waits after a failure, in milliseconds. */
export interface BackoffPolicy {
  /** The first wait after a success (or at the start). */
  readonly initialMs: number;
  /** The longest wait: each failure doubles the wait up to this. */
  readonly maxMs: number;
}

/** Where a back-off gets time and chance from; tests inject both. */
export interface BackoffClock {
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** A number in [0, 1), as Math.random gives. */
  random(): number;
}

/** The real clock: timers and Math.random. */
export const systemClock: BackoffClock = {
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }).catch(() => undefined),
  random: Math.random,
};

/**
 * Up to this share of the wait is added at random, so centers that lost a peer at the same
 * moment do not all come back to it at the same moment.
 */
export const JITTER = 0.2;

/**
 * Exponential back-off for a reconnect loop: `wait` sleeps the current delay plus up to
 * 20 % jitter, then doubles the delay (up to `maxMs`); `reset` after a success starts
 * over from `initialMs`. Every reconnect loop of vitrine uses one.
 */
export class Backoff {
  #delayMs: number;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly clock: BackoffClock = systemClock,
  ) {
    this.#delayMs = policy.initialMs;
  }

  /** The delay the next wait is based on, before jitter. */
  get delayMs(): number {
    return this.#delayMs;
  }

  /** Starts over from the initial delay (after a success). */
  reset(): void {
    this.#delayMs = this.policy.initialMs;
  }

  /**
   * Sleeps the current delay plus its jitter — cut short when `signal` aborts — then
   * doubles the delay for next time. Resolves with the milliseconds it meant to sleep.
   */
  async wait(signal: AbortSignal): Promise<number> {
    const ms = this.#delayMs * (1 + this.clock.random() * JITTER);
    this.#delayMs = Math.min(this.#delayMs * 2, this.policy.maxMs);
    if (!signal.aborted) await this.clock.sleep(ms, signal);
    return ms;
  }
}
