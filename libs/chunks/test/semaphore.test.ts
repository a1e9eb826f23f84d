import { describe, expect, it } from 'vitest';
import { Semaphore } from '../src/semaphore.js';

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, in call order, and frees a slot on failure', async () => {
    const slots = new Semaphore(2);
    let running = 0;
    const started: number[] = [];
    const task = (i: number) =>
      slots.run(async () => {
        running++;
        started.push(i);
        expect(running).toBeLessThanOrEqual(2);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        if (i === 1) throw new Error('task 1 failed');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(task));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
      0,
      'failed',
      2,
      3,
      4,
    ]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(slots.peak).toBe(2);
    expect(await slots.run(async () => 'free again')).toBe('free again');
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new Semaphore(0)).toThrow('a semaphore needs a positive integer limit, not 0');
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
  });
});
