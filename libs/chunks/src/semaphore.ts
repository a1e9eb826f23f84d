/**
 * At most `limit` tasks at once; the rest wait their turn in call order. Bounds the
 * requests an object store has in flight, whatever the number of concurrent callers.
 */
export class Semaphore {
  readonly limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #peak = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`a semaphore needs a positive integer limit, not ${limit}`);
    }
    this.limit = limit;
  }

  /** The most tasks that ran at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Runs `task` once a slot is free, and frees the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    this.#peak = Math.max(this.#peak, this.#running);
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next task, so `running` stays as it is.
      if (next === undefined) this.#running--;
      else next();
    }
  }
}
