import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '@vitrine/rpc';
import { type TestDatabase, testBackends } from '@vitrine/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncLease } from '../src/lease.js';

const postgres = testBackends().find((backend) => backend.name === 'postgres');
const logger = createLogger('test', { VITRINE_LOG_LEVEL: 'silent' });
const POLL_MS = 100;

/** Settles with 'pending' if `promise` has not settled within `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, sleep(ms).then(() => 'pending' as const)]);
}

describe.skipIf(postgres === undefined)('SyncLease on PostgreSQL', () => {
  let database: TestDatabase;
  const options = (centerId: string, onStandby?: () => void) => ({
    databaseUrl: database.url ?? '',
    centerId,
    pollMs: POLL_MS,
    logger,
    ...(onStandby ? { onStandby } : {}),
  });

  beforeAll(async () => {
    database = await (postgres as NonNullable<typeof postgres>).open();
  });
  afterAll(async () => {
    await database?.cleanup();
  });

  it('is held by one instance per center; a standby takes it once it is released', async () => {
    const first = await SyncLease.acquire(options('europe'), new AbortController().signal);
    let standby = false;
    const waiting = new AbortController();
    const second = SyncLease.acquire(
      options('europe', () => {
        standby = true;
      }),
      waiting.signal,
    );
    expect(await within(second, 5 * POLL_MS)).toBe('pending');
    expect(standby).toBe(true);
    // Another center's lease is its own.
    const other = await SyncLease.acquire(options('us'), new AbortController().signal);
    await first.release();
    const taken = await second;
    expect(taken).toBeInstanceOf(SyncLease);
    await taken.release();
    await other.release();
  });

  it('reports the lease lost when its connection is cut, and frees it for a standby', async () => {
    const held = await SyncLease.acquire(options('asia'), new AbortController().signal);
    const waiting = SyncLease.acquire(options('asia'), new AbortController().signal);
    expect(await within(waiting, 3 * POLL_MS)).toBe('pending');
    // The server ends the holder's session, as it does when the holding process dies.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const ended = await admin.query<{ ended: boolean }>(
        `select pg_terminate_backend(pid) as ended from pg_stat_activity
         where application_name = 'vitrine-sync-lease' and datname = current_database()
           and pid in (select pid from pg_locks where locktype = 'advisory' and granted
             and database = (select oid from pg_database where datname = current_database()))`,
      );
      expect(ended.rows.map((r) => r.ended)).toEqual([true]);
    } finally {
      await admin.end();
    }
    const reason = await within(held.lost, 30 * POLL_MS);
    expect(reason).toBeInstanceOf(Error);
    const taken = await within(waiting, 30 * POLL_MS);
    expect(taken).toBeInstanceOf(SyncLease);
    await held.release();
    if (taken instanceof SyncLease) await taken.release();
  });

  it('stops waiting when told to', async () => {
    const held = await SyncLease.acquire(options('europe'), new AbortController().signal);
    const stop = new AbortController();
    const waiting = SyncLease.acquire(options('europe'), stop.signal);
    expect(await within(waiting, 3 * POLL_MS)).toBe('pending');
    stop.abort(new Error('service stopping'));
    await expect(waiting).rejects.toThrow('service stopping');
    await held.release();
  });
});
