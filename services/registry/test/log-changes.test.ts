import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LogChanges } from '../src/log-changes.js';

/** Whether `promise` has settled by the time queued callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('LogChanges', () => {
  it('wakes a waiter at the next commit, not before', async () => {
    const changes = new LogChanges();
    const woken = changes.next();
    expect(await settled(woken)).toBe(false);
    changes.committed();
    expect(await settled(woken)).toBe(true);
  });

  it('wakes a waiter whose signal aborts, and lets go of its listener', async () => {
    const changes = new LogChanges();
    const stop = new AbortController();
    const woken = changes.next(stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    stop.abort();
    expect(await settled(woken)).toBe(true);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('drops a committed waiter’s abort listener', async () => {
    const changes = new LogChanges();
    const stop = new AbortController();
    const woken = changes.next(stop.signal);
    changes.committed();
    await woken;
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});

describe('a follower’s wake-up (LogChanges.follow)', () => {
  it('holds one waiter however many reads arm it before a commit', async () => {
    const changes = new LogChanges();
    const stop = new AbortController();
    const watch = changes.follow(stop.signal);
    const armed = Array.from({ length: 50 }, () => watch.armed());
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    expect(await settled(Promise.race(armed))).toBe(false);
    changes.committed();
    expect(await settled(Promise.all(armed))).toBe(true);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  it('arms afresh after it fired, for the commit after that', async () => {
    const changes = new LogChanges();
    const watch = changes.follow();
    const first = watch.armed();
    changes.committed();
    await first;
    const second = watch.armed();
    expect(second).not.toBe(first);
    expect(await settled(second)).toBe(false);
    changes.committed();
    expect(await settled(second)).toBe(true);
  });

  it('fires when its signal aborts', async () => {
    const changes = new LogChanges();
    const stop = new AbortController();
    const woken = changes.follow(stop.signal).armed();
    stop.abort();
    expect(await settled(woken)).toBe(true);
  });
});
