import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@vitrine/rpc';
import pg from 'pg';

/** How often a standby asks for the lease, and the active instance checks it still holds it. */
export const DEFAULT_LEASE_POLL_MS = 1_000;

/**
 * The advisory lock key of a center's sync lease: one per center, so the centers of a
 * federation may share a PostgreSQL server. `hashtextextended` gives a stable bigint.
 */
const LOCK_KEY_SQL = `hashtextextended('vitrine-sync:' || $1::text, 0)`;

/** What a lease needs: the center's database, its id, and how often to ask. */
export interface SyncLeaseOptions {
  /** postgres://… of the center's database (the registry's `databaseUrl`). */
  readonly databaseUrl: string;
  readonly centerId: string;
  readonly pollMs?: number;
  readonly logger: Logger;
  /** Called once when the lease is found held by another instance (this one is standby). */
  readonly onStandby?: () => void;
}

/**
 * The right to run a center's active sync instance: a session-level PostgreSQL advisory
 * lock held on a connection of its own. The lock lives exactly as long as that connection,
 * so when the process holding it dies (SIGKILL included) the server drops the connection
 * and the lock with it, and a standby polling `pg_try_advisory_lock` takes over on its next
 * try. The holder runs `select 1` on the connection every poll interval: a connection that
 * fails or ends resolves `lost`, and the holder must stop acting as the active instance.
 */
export class SyncLease {
  readonly #client: pg.Client;
  readonly #stop = new AbortController();
  readonly #heartbeat: Promise<void>;
  #released = false;
  /** Resolves with the reason once the lease can no longer be trusted to be held. */
  readonly lost: Promise<Error>;

  private constructor(client: pg.Client, pollMs: number) {
    this.#client = client;
    let markLost: (reason: Error) => void = () => {};
    this.lost = new Promise<Error>((resolve) => {
      markLost = resolve;
    });
    client.on('error', (err) => markLost(err));
    client.on('end', () => markLost(new Error('lease connection ended')));
    this.#heartbeat = (async () => {
      const signal = this.#stop.signal;
      while (!signal.aborted) {
        await sleep(pollMs, undefined, { signal }).catch(() => {});
        if (signal.aborted) return;
        try {
          await client.query('select 1');
        } catch (err) {
          markLost(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
    })();
  }

  /**
   * Waits until this process holds the center's lease, asking every `pollMs`; rejects when
   * `signal` aborts first. A database that cannot be reached is retried at the same pace
   * (logged), since a standby's job is to wait.
   */
  static async acquire(options: SyncLeaseOptions, signal: AbortSignal): Promise<SyncLease> {
    const pollMs = options.pollMs ?? DEFAULT_LEASE_POLL_MS;
    let waitingLogged = false;
    for (;;) {
      signal.throwIfAborted();
      const client = leaseClient(options.databaseUrl, pollMs);
      client.on('error', () => {}); // failures surface through the calls below
      try {
        await client.connect();
        for (;;) {
          signal.throwIfAborted();
          const result = await client.query<{ held: boolean }>(
            `select pg_try_advisory_lock(${LOCK_KEY_SQL}) as held`,
            [options.centerId],
          );
          if (result.rows[0]?.held === true) return new SyncLease(client, pollMs);
          if (!waitingLogged) {
            options.onStandby?.();
            options.logger.info(
              { center: options.centerId },
              'sync standby: another instance of this center is active; waiting for its lease',
            );
            waitingLogged = true;
          }
          await sleep(pollMs, undefined, { signal });
        }
      } catch (err) {
        await client.end().catch(() => {});
        if (signal.aborted) throw signal.reason;
        options.logger.warn(
          { center: options.centerId, err: err instanceof Error ? err.message : String(err) },
          'sync lease: database unreachable; retrying',
        );
        await sleep(pollMs, undefined, { signal });
      }
    }
  }

  /** Gives the lease up (unlocking by closing its connection) so a standby may take it. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#stop.abort();
    await this.#heartbeat;
    await this.#client.end().catch(() => {});
  }
}

/** A connection that notices a dead peer: TCP keep-alive, and queries that time out. */
function leaseClient(url: string, pollMs: number): pg.Client {
  return new pg.Client({
    connectionString: url,
    application_name: 'vitrine-sync-lease',
    keepAlive: true,
    keepAliveInitialDelayMillis: pollMs,
    connectionTimeoutMillis: Math.max(5 * pollMs, 5_000),
    query_timeout: Math.max(5 * pollMs, 5_000),
  });
}
