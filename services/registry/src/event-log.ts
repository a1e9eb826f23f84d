import { create } from '@bufbuild/protobuf';
import type { SigningKeyPair } from '@vitrine/crypto';
import { nextHlc, type SealedEvent, sealEvent } from '@vitrine/events';
import { type EventBody, EventBodySchema } from '@vitrine/proto/event';
import { type Kysely, sql } from 'kysely';
import { applyEvent } from './apply-event.js';
import { LogChanges } from './log-changes.js';
import type { RegistryDatabase } from './schema.js';

/** What an event changes: one of the `EventBody.change` cases. */
export type EventChange = Exclude<EventBody['change'], { case: undefined }>;

/** Who this center is: its id and the key it signs its events with. */
export interface CenterIdentity {
  readonly id: string;
  readonly jurisdiction: string;
  readonly signingKey: SigningKeyPair;
}

/**
 * A center's signed event log. Every local change goes through `append`, which allocates
 * the next sequence and HLC under a row lock on the center's log head (so concurrent
 * writers, even in several processes on one PostgreSQL, stay contiguous), links the hash
 * chain, signs, stores the event and applies it — all in the caller's transaction.
 */
export class EventLog {
  constructor(
    private readonly center: CenterIdentity,
    readonly changes: LogChanges = new LogChanges(),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `work` in a transaction and, once it has committed, wakes the log's followers.
   * Every write that appends events goes through here.
   */
  async transact<T>(
    db: Kysely<RegistryDatabase>,
    work: (tx: Kysely<RegistryDatabase>) => Promise<T>,
  ) {
    const result = await db.transaction().execute(work);
    this.changes.committed();
    return result;
  }

  /**
   * Takes this center's log-head row lock for the rest of `tx`, so a check made after it
   * (does this artifact exist yet?) cannot race another writer's append.
   */
  async lock(tx: Kysely<RegistryDatabase>): Promise<void> {
    await this.#lockedHead(tx);
  }

  /**
   * Appends a local event inside `tx` and applies it to the derived state. `change` may be
   * a function of the event's sequence, for changes that name themselves after it (finding
   * ids). `residency` says where the event's body may be held (empty: everywhere).
   */
  async append(
    tx: Kysely<RegistryDatabase>,
    actor: string,
    change: EventChange | ((seq: bigint) => EventChange),
    residency: readonly string[] = [],
  ): Promise<SealedEvent> {
    const head = await this.#lockedHead(tx);
    const seq = head.seq + 1n;
    const body = create(EventBodySchema, {
      actor,
      change: typeof change === 'function' ? change(seq) : change,
    });
    const fields = {
      origin: this.center.id,
      seq,
      hlc: nextHlc(head.hlc, this.now()),
      prevDigest: head.digest,
      residency: [...residency].sort(),
    };
    const sealed = await sealEvent(fields, body, this.center.signingKey);
    await this.store(tx, sealed);
    await applyEvent(tx, sealed.header, body, true);
    return sealed;
  }

  /** Moves this center's clock past a timestamp seen on an event from a peer (HLC receive rule). */
  async observe(tx: Kysely<RegistryDatabase>, hlc: bigint): Promise<void> {
    await this.#lockedHead(tx);
    await tx
      .updateTable('log_heads')
      .set({ hlc: sql`greatest(hlc, ${hlc}::int8)` })
      .where('origin', '=', this.center.id)
      .execute();
  }

  /** Inserts an event (verified, next in its origin's chain) and advances its origin's head. */
  async store(tx: Kysely<RegistryDatabase>, sealed: SealedEvent): Promise<void> {
    await storeEvent(tx, sealed);
  }

  #lockedHead(tx: Kysely<RegistryDatabase>) {
    return lockHead(tx, this.center.id);
  }
}

/** An origin's log head, locked for the transaction; created at seq 0 so there is a row to lock. */
export async function lockHead(tx: Kysely<RegistryDatabase>, origin: string) {
  await tx
    .insertInto('log_heads')
    .values({ origin, seq: 0n, digest: new Uint8Array(), hlc: 0n })
    .onConflict((oc) => oc.column('origin').doNothing())
    .execute();
  return tx
    .selectFrom('log_heads')
    .selectAll()
    .where('origin', '=', origin)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

async function storeEvent(tx: Kysely<RegistryDatabase>, sealed: SealedEvent): Promise<void> {
  const { header } = sealed;
  await tx
    .insertInto('events')
    .values({
      origin: header.origin,
      seq: header.seq,
      hlc: header.hlc,
      residency: header.residency,
      header: sealed.headerBytes,
      signature: sealed.signature,
      digest: sealed.digest,
      body_case: sealed.body?.change.case ?? null,
      body: sealed.bodyBytes ?? null,
    })
    .execute();
  await tx
    .insertInto('log_heads')
    .values({ origin: header.origin, seq: header.seq, digest: sealed.digest, hlc: header.hlc })
    .onConflict((oc) =>
      oc.column('origin').doUpdateSet({ seq: header.seq, digest: sealed.digest, hlc: header.hlc }),
    )
    .execute();
}
