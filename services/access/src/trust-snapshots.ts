import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DEFAULT_SKEW_SECONDS, signTrustSnapshot } from '@vitrine/credentials';
import type { SigningKeyPair } from '@vitrine/crypto';
import {
  type TokenKey,
  TokenKeySchema,
  TrustSnapshotSchema,
  type WatchTrustResponse,
} from '@vitrine/proto/access';
import type { Kysely, Transaction } from 'kysely';
import type { DecisionLog } from './decision-log.js';
import { revokedCredentialIds } from './revoked-credentials.js';
import type { AccessDatabase } from './schema.js';

/** Bumps the snapshot version inside the transaction that makes a change centers must learn. */
export async function bumpTrustVersion(tx: Transaction<AccessDatabase>): Promise<bigint> {
  const row = await tx
    .updateTable('trust_state')
    .set((eb) => ({ version: eb('version', '+', 1n) }))
    .where('id', '=', 1)
    .returning('version')
    .executeTakeFirstOrThrow();
  return row.version;
}

/** The longest a timer may be set for (setTimeout's limit, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * What centers trust, signed by the trust key and pushed to every WatchTrust stream: the
 * current snapshot at once, then each new one as soon as a change commits — no polling.
 * A change (revocation, rotation) bumps the persisted version in its own transaction and
 * then calls `publish`, so versions only grow, across restarts too. A retired key's last
 * token expiring is a change too: a timer republishes without it.
 */
export class TrustSnapshots {
  #latest: { version: bigint; response: WatchTrustResponse } | undefined;
  #changed = signal();
  #timer: NodeJS.Timeout | undefined;
  #nextKeyDrop: Date | undefined;

  constructor(
    private readonly db: Kysely<AccessDatabase>,
    private readonly trustKey: SigningKeyPair,
    private readonly log: DecisionLog,
    private readonly now: () => Date,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** When the next retired key leaves the snapshot; undefined when none is retired. */
  get nextKeyDrop(): Date | undefined {
    return this.#nextKeyDrop;
  }

  /** Rebuilds and signs the snapshot from the database, then wakes every watcher. */
  async publish(): Promise<void> {
    const { snapshot, nextKeyDrop } = await this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute((tx) => this.#build(tx));
    if (this.#latest && this.#latest.version >= snapshot.version) return;
    this.#schedule(nextKeyDrop);
    this.#latest = {
      version: snapshot.version,
      response: await signTrustSnapshot(snapshot, this.trustKey),
    };
    const changed = this.#changed;
    this.#changed = signal();
    changed.resolve();
  }

  /** Bumps the version and republishes: a retired key's last token has expired. */
  async dropExpiredKeys(): Promise<void> {
    await this.db.transaction().execute((tx) => bumpTrustVersion(tx));
    await this.publish();
  }

  /** Stops the key-expiry timer (the service is stopping). */
  close(): void {
    clearTimeout(this.#timer);
  }

  #schedule(at: Date | undefined): void {
    clearTimeout(this.#timer);
    this.#nextKeyDrop = at;
    if (!at) return;
    const delay = Math.min(Math.max(0, at.getTime() - this.now().getTime()) + 1_000, MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.dropExpiredKeys().catch(this.onError), delay);
    this.#timer.unref();
  }

  /** The latest signed snapshot. */
  async current(): Promise<WatchTrustResponse> {
    if (!this.#latest) await this.publish();
    return (this.#latest as { response: WatchTrustResponse }).response;
  }

  /** The current snapshot, then every newer one, until `signal` aborts. */
  async *watch(signal: AbortSignal): AsyncGenerator<WatchTrustResponse> {
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await this.current();
    let sent: bigint | undefined;
    while (!signal.aborted) {
      // Taken before looking at the latest, so a publish in between is not missed.
      const changed = this.#changed.promise;
      const latest = this.#latest;
      if (latest && (sent === undefined || latest.version > sent)) {
        sent = latest.version;
        yield latest.response;
      } else {
        await Promise.race([changed, aborted]);
      }
    }
  }

  async #build(tx: Transaction<AccessDatabase>) {
    const { version } = await tx
      .selectFrom('trust_state')
      .select('version')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    const now = this.now();
    const { keys, nextKeyDrop } = await trustedKeys(tx, now);
    // Read in the snapshot's transaction: the decision that bumped the version is in it.
    const accessLogSize = await this.log.store.size(tx);
    const snapshot = create(TrustSnapshotSchema, {
      version,
      keys,
      revokedCredentialIds: await revokedCredentialIds(tx),
      at: timestampFromDate(now),
      accessLogSize: BigInt(accessLogSize),
      accessLogRoot: await this.log.store.root(accessLogSize, tx),
    });
    return { snapshot, nextKeyDrop };
  }
}

/**
 * Keys whose credentials verify: the active one, and retired ones until the last token
 * they signed has expired (plus the clock skew centers allow), with the time the first of
 * those leaves. A key revoked by id is gone.
 */
async function trustedKeys(
  tx: Transaction<AccessDatabase>,
  now: Date,
): Promise<{ keys: TokenKey[]; nextKeyDrop: Date | undefined }> {
  const rows = await tx
    .selectFrom('token_keys as k')
    .leftJoin('credentials as c', 'c.key_id', 'k.key_id')
    .select(['k.key_id', 'k.public_key', 'k.created_at', 'k.retired_at'])
    .select((eb) => eb.fn.max('c.expires_at').as('last_expiry'))
    .where('k.revoked_at', 'is', null)
    .groupBy(['k.key_id', 'k.seq', 'k.public_key', 'k.created_at', 'k.retired_at'])
    .orderBy('k.seq')
    .execute();
  const skewMs = DEFAULT_SKEW_SECONDS * 1000;
  const dropAt = (row: (typeof rows)[number]): number => {
    if (row.retired_at === null) return Number.POSITIVE_INFINITY;
    const lastExpiry = row.last_expiry === null ? row.retired_at : new Date(row.last_expiry);
    return Math.max(lastExpiry.getTime(), row.retired_at.getTime()) + skewMs;
  };
  const kept = rows.filter((row) => now.getTime() <= dropAt(row));
  const next = Math.min(...kept.map(dropAt));
  const keys = kept.map((row) =>
    create(TokenKeySchema, {
      keyId: row.key_id,
      publicKey: row.public_key,
      createdAt: timestampFromDate(row.created_at),
      ...(row.retired_at ? { retiredAt: timestampFromDate(row.retired_at) } : {}),
    }),
  );
  return { keys, nextKeyDrop: Number.isFinite(next) ? new Date(next) : undefined };
}

/** A promise and the function that settles it (Promise.withResolvers, which Node 20 lacks). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
