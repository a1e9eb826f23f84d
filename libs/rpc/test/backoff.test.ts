import { describe, expect, it } from 'vitest';
import { Backoff, type BackoffClock, JITTER, systemClock } from '../src/backoff.js';

/** A clock that records every sleep and resolves it at once, with chance given in turn. */
function fakeClock(chances: number[] = [0]): BackoffClock & { slept: number[] } {
  let turn = 0;
  const slept: number[] = [];
  return {
    slept,
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => chances[turn++ % chances.length] ?? 0,
  };
}

const POLICY = { initialMs: 250, maxMs: 2_000 };

describe('Backoff', () => {
  it('doubles the wait after each failure, up to the maximum', async () => {
    const clock = fakeClock();
    const backoff = new Backoff(POLICY, clock);
    const signal = new AbortController().signal;
    for (let i = 0; i < 6; i++) await backoff.wait(signal);
    expect(clock.slept).toEqual([250, 500, 1_000, 2_000, 2_000, 2_000]);
  });

  it('starts over from the initial wait after a reset', async () => {
    const clock = fakeClock();
    const backoff = new Backoff(POLICY, clock);
    const signal = new AbortController().signal;
    await backoff.wait(signal);
    await backoff.wait(signal);
    expect(backoff.delayMs).toBe(1_000);
    backoff.reset();
    expect(backoff.delayMs).toBe(250);
    await backoff.wait(signal);
    expect(clock.slept).toEqual([250, 500, 250]);
  });

  it('adds up to 20 % of the wait as jitter, from the injected randomness', async () => {
    const clock = fakeClock([0.5, 0.999_999, 0]);
    const backoff = new Backoff(POLICY, clock);
    const signal = new AbortController().signal;
    expect(await backoff.wait(signal)).toBe(250 * (1 + 0.5 * JITTER));
    await backoff.wait(signal);
    await backoff.wait(signal);
    expect(clock.slept[0]).toBe(275);
    expect(clock.slept[1]).toBeCloseTo(600, 3);
    expect(clock.slept[1]).toBeLessThan(500 * (1 + JITTER));
    expect(clock.slept[2]).toBe(1_000);
  });

  it('does not sleep once the signal has aborted, and still advances', async () => {
    const clock = fakeClock();
    const backoff = new Backoff(POLICY, clock);
    const stop = new AbortController();
    stop.abort();
    await backoff.wait(stop.signal);
    expect(clock.slept).toEqual([]);
    expect(backoff.delayMs).toBe(500);
  });

  it('passes the signal to the clock, so a stop cuts a sleep short', async () => {
    const stop = new AbortController();
    let seen: AbortSignal | undefined;
    const clock: BackoffClock = {
      sleep: (_ms, signal) => {
        seen = signal;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve()));
      },
      random: () => 0,
    };
    const waiting = new Backoff(POLICY, clock).wait(stop.signal);
    stop.abort();
    await expect(waiting).resolves.toBe(250);
    expect(seen).toBe(stop.signal);
  });

  it('uses a system clock whose sleep ends without throwing when stopped', async () => {
    const stop = new AbortController();
    const sleeping = systemClock.sleep(60_000, stop.signal);
    stop.abort();
    await expect(sleeping).resolves.toBeUndefined();
    expect(systemClock.random()).toBeGreaterThanOrEqual(0);
    expect(systemClock.random()).toBeLessThan(1);
  });
});
