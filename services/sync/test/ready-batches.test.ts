import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readyBatches } from '../src/ready-batches.js';

/** A source that yields `items`, pausing `gapMs` before each item listed in `pauses`. */
async function* source(items: number[], pauses: Set<number> = new Set(), gapMs = 30) {
  for (const item of items) {
    if (pauses.has(item)) await sleep(gapMs);
    yield item;
  }
}

describe('readyBatches', () => {
  it('batches what has arrived, at most max at a time, in order', async () => {
    const slowConsumer: number[][] = [];
    for await (const batch of readyBatches(source([1, 2, 3, 4, 5, 6, 7]), 3)) {
      slowConsumer.push(batch);
      await sleep(20);
    }
    expect(slowConsumer.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Math.max(...slowConsumer.map((b) => b.length))).toBe(3);
    expect(slowConsumer.length).toBeLessThan(7);
  });

  it('hands over an item that arrives alone without waiting for more', async () => {
    const batches: number[][] = [];
    for await (const batch of readyBatches(source([1, 2, 3], new Set([2, 3])), 100)) {
      batches.push(batch);
    }
    expect(batches).toEqual([[1], [2], [3]]);
  });

  it('reads at most max items ahead of the consumer', async () => {
    let produced = 0;
    async function* counting() {
      for (let i = 0; i < 100; i++) {
        produced++;
        yield i;
      }
    }
    const batches = readyBatches(counting(), 4);
    await batches.next();
    await sleep(20);
    expect(produced).toBeLessThanOrEqual(4 + 4 + 1);
    await batches.return();
  });

  it('yields what arrived before the source failed, then throws its error', async () => {
    async function* failing() {
      yield 1;
      yield 2;
      throw new Error('stream reset');
    }
    const got: number[] = [];
    const run = async () => {
      for await (const batch of readyBatches(failing(), 10)) got.push(...batch);
    };
    await expect(run()).rejects.toThrow('stream reset');
    expect(got).toEqual([1, 2]);
  });

  it('refuses a batch size that is not a positive whole number', async () => {
    await expect(readyBatches(source([1]), 0).next()).rejects.toThrow(RangeError);
  });
});
