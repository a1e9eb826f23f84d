/**
 * Runs tasks with at most `limit` at once: `add` returns only when a slot is free, so a
 * producer (a stream of chunks being stored) never gets more than `limit` ahead and memory
 * stays bounded. The first failure is rethrown by the next `add` or by `finish`; `drain`
 * waits for every task started, so nothing runs on after its owner has stopped.
 */
export class TaskWindow {
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** Starts `task`, then waits until fewer than `limit` tasks run. */
  async add(task: () => Promise<void>): Promise<void> {
    this.#rethrow();
    const tracked: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
    while (this.#running.size >= this.limit) await Promise.race(this.#running);
    this.#rethrow();
  }

  /** Waits for every task, then rethrows the first failure. */
  async finish(): Promise<void> {
    await this.drain();
    this.#rethrow();
  }

  /** Waits for every task started; never throws. */
  async drain(): Promise<void> {
    await Promise.all(this.#running);
  }

  #rethrow(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
