import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TaskWindow } from '../src/task-window.js';

describe('TaskWindow: bounded tasks for a stream being stored', () => {
  it('never runs more than its limit at once, and finishes every task', async () => {
    const window = new TaskWindow(3);
    let running = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 20; i++) {
      await window.add(async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(1 + (i % 4));
        running--;
        done++;
      });
      expect(running).toBeLessThan(3);
    }
    await window.finish();
    expect(peak).toBe(3);
    expect(done).toBe(20);
  });

  it('rethrows the first failure, and drain still waits for tasks already started', async () => {
    const window = new TaskWindow(4);
    let slowFinished = false;
    await window.add(async () => {
      await sleep(20);
      slowFinished = true;
    });
    await window.add(async () => {
      throw new Error('disk full');
    });
    await sleep(1);
    await expect(window.add(async () => {})).rejects.toThrow('disk full');
    await window.drain();
    expect(slowFinished).toBe(true);
    await expect(window.finish()).rejects.toThrow('disk full');
  });
});
