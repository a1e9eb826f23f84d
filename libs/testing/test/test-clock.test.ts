import { describe, expect, it } from 'vitest';
import { TestClock } from '../src/index.js';

describe('TestClock', () => {
  it('stands still until advanced, then moves by exactly what it is told', () => {
    const clock = new TestClock('2026-03-02T09:00:00Z');
    const start = Date.parse('2026-03-02T09:00:00Z');
    expect(clock.nowMs()).toBe(start);
    expect(clock.now()).toEqual(new Date(start));
    expect(clock.nowMs()).toBe(start);
    expect(clock.advance(1500)).toEqual(new Date(start + 1500));
    expect(clock.nowMs()).toBe(start + 1500);
  });

  it('works as a detached `now` option', () => {
    const clock = new TestClock(new Date(0));
    const { now, nowMs } = clock;
    clock.advance(42);
    expect(now().getTime()).toBe(42);
    expect(nowMs()).toBe(42);
  });

  it('tells times around now without moving', () => {
    const clock = new TestClock('2026-03-02T09:00:00Z');
    expect(clock.in(-60_000)).toEqual(new Date('2026-03-02T08:59:00Z'));
    expect(clock.in(3_600_000)).toEqual(new Date('2026-03-02T10:00:00Z'));
    expect(clock.now()).toEqual(new Date('2026-03-02T09:00:00Z'));
  });

  it('refuses a start that is not a time and a move backwards', () => {
    expect(() => new TestClock('not a time')).toThrow(/not a time/);
    const clock = new TestClock('2026-03-02T09:00:00Z');
    expect(() => clock.advance(-1)).toThrow(/forward/);
    expect(() => clock.advance(Number.NaN)).toThrow(/forward/);
    expect(clock.now()).toEqual(new Date('2026-03-02T09:00:00Z'));
  });
});
