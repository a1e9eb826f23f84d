import { toHex } from '@vitrine/crypto';
import { describe, expect, it } from 'vitest';
import { FetchPlan } from '../src/fetch-plan.js';

/** Digest number `n` (a distinct 32-byte value). */
const d = (n: number) => new Uint8Array(32).fill(n);
const hex = (digests: Uint8Array[]) => digests.map((x) => toHex(x).slice(0, 2));

describe('FetchPlan: one round of chunks shared among peers', () => {
  it('hands each chunk to one peer at a time, in batches, until all are stored', async () => {
    const plan = new FetchPlan([d(1), d(2), d(3), d(4), d(5)], ['a', 'b']);
    const first = await plan.next('a', 2);
    const second = await plan.next('b', 2);
    expect(hex(first)).toEqual(['01', '02']);
    expect(hex(second)).toEqual(['03', '04']);
    expect(hex(await plan.next('a', 2))).toEqual(['05']);
    for (const x of [...first, d(5)]) plan.stored('a', x);
    // b's chunks are still out: a waits for them rather than ending its round.
    let aDone = false;
    const aNext = plan.next('a', 2).then((batch) => {
      aDone = true;
      return batch;
    });
    await Promise.resolve();
    expect(aDone).toBe(false);
    for (const x of second) plan.stored('b', x);
    expect(await aNext).toEqual([]);
    expect(await plan.next('b', 2)).toEqual([]);
    expect(plan.storedCount).toBe(5);
  });

  it('asks another peer for a chunk one lacks, and gives it up when every peer lacks it', async () => {
    const plan = new FetchPlan([d(1), d(2)], ['a', 'b']);
    // Each peer takes its share of a small round: one of two chunks.
    expect(hex(await plan.next('a', 2))).toEqual(['01']);
    expect(hex(await plan.next('b', 2))).toEqual(['02']);
    plan.lacks('a', d(1));
    plan.stored('b', d(2));
    expect(hex(await plan.next('a', 2))).toEqual([]);
    const retry = await plan.next('b', 2);
    expect(hex(retry)).toEqual(['01']);
    plan.lacks('b', d(1));
    expect(await plan.next('b', 2)).toEqual([]);
    expect(plan.storedCount).toBe(1);
  });

  it('gives what a leaving peer had not delivered to a peer waiting for work', async () => {
    const plan = new FetchPlan([d(1), d(2), d(3), d(4)], ['a', 'b']);
    expect(hex(await plan.next('a', 4))).toEqual(['01', '02']);
    expect(hex(await plan.next('b', 4))).toEqual(['03']);
    expect(hex(await plan.next('b', 4))).toEqual(['04']);
    plan.stored('b', d(3));
    plan.stored('b', d(4));
    // Nothing is waiting, but a's chunks may still come back: b waits for them.
    const waiting = plan.next('b', 2);
    plan.stored('a', d(1));
    plan.leave('a');
    expect(hex(await waiting)).toEqual(['02']);
    expect(await plan.next('a', 2)).toEqual([]);
    plan.lacks('b', d(2));
    // Only b is left, and it lacks d(2): nothing more this round.
    expect(await plan.next('b', 2)).toEqual([]);
    expect(plan.storedCount).toBe(3);
  });

  it('ignores answers for chunks a peer was not asked for', async () => {
    const plan = new FetchPlan([d(1)], ['a', 'b']);
    await plan.next('a', 1);
    plan.stored('b', d(1));
    plan.lacks('b', d(1));
    expect(plan.storedCount).toBe(0);
    plan.stored('a', d(1));
    expect(plan.storedCount).toBe(1);
    expect(await plan.next('b', 1)).toEqual([]);
  });

  it('has nothing to hand out without peers', async () => {
    const plan = new FetchPlan([d(1)], []);
    expect(await plan.next('a', 1)).toEqual([]);
  });
});
