/**
 * Maps `items` through `load` with up to `limit` loads in flight, yielding results in input
 * order: the consumer handles one result while the next few are already on their way, and
 * memory stays bounded by `limit` results.
 *
 * A failed load surfaces when its turn comes. If the consumer stops early, loads already
 * started are left to finish and their failures are ignored; the source is closed.
 */
export async function* readAhead<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  load: (item: T) => Promise<R>,
  limit: number,
): AsyncGenerator<R, void, undefined> {
  const source = toAsyncIterator(items);
  const pending: Promise<R>[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && pending.length < limit) {
        const next = await source.next();
        if (next.done === true) {
          exhausted = true;
        } else {
          const loading = load(next.value);
          loading.catch(() => {}); // observed here so an abandoned load is not "unhandled"
          pending.push(loading);
        }
      }
      const head = pending.shift();
      if (head === undefined) return;
      yield await head;
    }
  } finally {
    if (!exhausted) await source.return?.();
  }
}

/** An async iterator over either kind of iterable. */
function toAsyncIterator<T>(items: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> {
  if (Symbol.asyncIterator in items) return items[Symbol.asyncIterator]();
  const it = items[Symbol.iterator]();
  return {
    next: async () => it.next(),
    return: async (value?: unknown) => {
      it.return?.(value);
      return { done: true, value: undefined };
    },
  };
}
