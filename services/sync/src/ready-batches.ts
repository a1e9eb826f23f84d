/**
 * Groups what an async source has already delivered into arrays of at most `max`, so a
 * consumer slower than its source (one transaction per batch of events) takes many items
 * at once, while one that keeps up still gets each item as soon as it arrives. At most
 * `max` items are read ahead of the consumer, so a stream's flow control still holds its
 * sender back. Items that arrived before the source failed are yielded before the failure
 * is thrown. A consumer that stops early closes the source once its next item arrives; to
 * end a source that may stay silent (a live stream), abort it as well.
 */
export async function* readyBatches<T>(
  source: AsyncIterable<T>,
  max: number,
): AsyncGenerator<T[], void, undefined> {
  if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
  const buffer: T[] = [];
  let ended: { error?: unknown } | undefined;
  let stopped = false;
  let wake = () => {};
  let taken = () => {};
  const changed = () => new Promise<void>((resolve) => (wake = resolve));
  void (async () => {
    try {
      for await (const item of source) {
        if (stopped) break;
        buffer.push(item);
        wake();
        while (buffer.length >= max && !stopped) {
          await new Promise<void>((resolve) => (taken = resolve));
        }
        if (stopped) break;
      }
      ended = {};
    } catch (error) {
      ended = { error };
    }
    wake();
  })();
  try {
    for (;;) {
      if (buffer.length === 0 && !ended) await changed();
      if (buffer.length > 0) {
        yield buffer.splice(0, max);
        taken();
        continue;
      }
      if (ended && 'error' in ended) throw ended.error;
      if (ended) return;
    }
  } finally {
    stopped = true;
    taken();
  }
}
