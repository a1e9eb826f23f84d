/**
 * A clock a test sets and moves by hand, for code that takes a `now`: what the code under
 * test sees as the time is what the test says, so a test's results do not depend on when
 * or how fast it runs. Time stands still until `advance`.
 */
export class TestClock {
  #ms: number;

  constructor(start: Date | string) {
    this.#ms = new Date(start).getTime();
    if (Number.isNaN(this.#ms)) throw new Error(`not a time: ${String(start)}`);
  }

  /** The current time; a function, so it can be passed as a `now` option. */
  readonly now = (): Date => new Date(this.#ms);

  /** The current time in milliseconds since the Unix epoch. */
  readonly nowMs = (): number => this.#ms;

  /** The time `ms` milliseconds from now (negative: before), without moving the clock. */
  in(ms: number): Date {
    return new Date(this.#ms + ms);
  }

  /** Moves the clock `ms` milliseconds forward and returns the new time. */
  advance(ms: number): Date {
    if (!(ms >= 0)) throw new Error(`a clock moves forward, not by ${ms} ms`);
    this.#ms += ms;
    return this.now();
  }
}
