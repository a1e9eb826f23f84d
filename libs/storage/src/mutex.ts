/**
 * A first-come, first-served lock within one process. PGlite is a single Postgres backend,
 * so everything that talks to it — one query, or a whole transaction — must hold this lock
 * for as long as it uses the connection.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Waits for every earlier holder, then returns the function that hands the lock on. */
  async lock(): Promise<() => void> {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => held);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }
}
