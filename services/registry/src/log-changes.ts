/**
 * Wakes whoever follows a center's event log (the sync service streaming it to peers)
 * when events have been committed — local appends and events received from peers alike —
 * so followers never poll. Followers re-read the log after waking, so a wake-up that
 * carries no information cannot lose one.
 */
export class LogChanges {
  #waiters: (() => void)[] = [];

  /** Called after a transaction that stored events has committed. */
  committed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next commit, or when `signal` aborts. */
  next(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const wake = () => {
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.#waiters.push(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}
