import { create } from '@bufbuild/protobuf';
import type { SigningKeyPair } from '@vitrine/crypto';
import { nextHlc, type SealedEvent, sealEvent } from '@vitrine/events';
import { type Event, EventSchema } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { applyEvent } from './apply-event.js';
import type { RegistryDatabase } from './schema.js';

/** The body of an event: one of the `Event.body` cases. */
export type EventBody = Exclude<Event['body'], { case: undefined }>;

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
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes this center's log-head row lock for the rest of `tx`, so a check made after it
   * (does this artifact exist yet?) cannot race another writer's append.
   */
  async lock(tx: Kysely<RegistryDatabase>): Promise<void> {
    await this.#lockedHead(tx);
  }

  /**
   * Appends a local event inside `tx` and applies it to the derived state. `body` may be a
   * function of the event's sequence, for bodies that name themselves after it (finding ids).
   */
  async append(
    tx: Kysely<RegistryDatabase>,
    actor: string,
    body: EventBody | ((seq: bigint) => EventBody),
  ): Promise<SealedEvent> {
    const head = await this.#lockedHead(tx);
    const seq = head.seq + 1n;
    const event = create(EventSchema, {
      origin: this.center.id,
      seq,
      hlc: nextHlc(head.hlc, this.now()),
      prevDigest: head.digest,
      actor,
      body: typeof body === 'function' ? body(seq) : body,
    });
    const sealed = await sealEvent(event, this.center.signingKey);
    await storeEvent(tx, sealed);
    await applyEvent(tx, sealed.event);
    return sealed;
  }

  /** The center's log head, locked; created (seq 0) on first use so there is a row to lock. */
  async #lockedHead(tx: Kysely<RegistryDatabase>) {
    await tx
      .insertInto('log_heads')
      .values({ origin: this.center.id, seq: 0n, digest: new Uint8Array(), hlc: 0n })
      .onConflict((oc) => oc.column('origin').doNothing())
      .execute();
    const head = await tx
      .selectFrom('log_heads')
      .selectAll()
      .where('origin', '=', this.center.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return head;
  }
}

/** Inserts an event and advances its origin's log head. */
async function storeEvent(tx: Kysely<RegistryDatabase>, sealed: SealedEvent): Promise<void> {
  const { event } = sealed;
  await tx
    .insertInto('events')
    .values({
      origin: event.origin,
      seq: event.seq,
      hlc: event.hlc,
      body_case: event.body.case ?? '',
      bytes: sealed.bytes,
      signature: sealed.signature,
      digest: sealed.digest,
    })
    .execute();
  await tx
    .insertInto('log_heads')
    .values({ origin: event.origin, seq: event.seq, digest: sealed.digest, hlc: event.hlc })
    .onConflict((oc) =>
      oc.column('origin').doUpdateSet({ seq: event.seq, digest: sealed.digest, hlc: event.hlc }),
    )
    .execute();
}
