/**
 * Wakes whoever follows a log (a center's sync service streaming its events to peers, a
 * cosignature gatherer following checkpoints) when something has been committed, so
 * followers never poll. Followers re-read the log after waking, so a wake-up that
 * carries no information cannot lose one.
 */
export class LogChanges {
  #waiters = new Set<() => void>();
  #commits = 0;

  /** How many commits were announced so far: a read begun at the same count saw them all. */
  get commits(): number {
    return this.#commits;
  }

  /** Called after a transaction that stored events has committed. */
  committed(): void {
    this.#commits++;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next commit, or when `signal` aborts. */
  next(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const wake = () => {
        this.#waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.#waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** A follower's wake-up, for a loop that reads the log again and again until `signal` aborts. */
  follow(signal?: AbortSignal): ChangeWatch {
    return new ChangeWatch(this, signal);
  }
}

/**
 * One follower's wake-up, kept armed across its reads. A loop arms it before each read of
 * the log and waits on it only when the read found nothing new; a read that found plenty
 * leaves the same wake-up armed for the next, where a fresh one per read would leave a
 * waiter and an abort listener behind for every read until the next commit.
 */
export class ChangeWatch {
  #armed: Promise<void> | undefined;

  constructor(
    private readonly changes: LogChanges,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Resolves at the first commit after this call, or after an earlier call whose wake-up has
   * not fired yet — no later, so no commit is missed. Call before reading; await after.
   */
  armed(): Promise<void> {
    if (this.#armed !== undefined) return this.#armed;
    const armed = this.changes.next(this.signal).then(() => {
      this.#armed = undefined;
    });
    this.#armed = armed;
    return armed;
  }
}
