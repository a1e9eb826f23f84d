import { create } from '@bufbuild/protobuf';
import { bytesEqual } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { assertChained, openEvent, type SealedEvent } from '@vitrine/events';
import { type SignedEvent, SignedEventSchema } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { applyEvent } from './apply-event.js';
import { type CenterIdentity, type EventLog, lockHead } from './event-log.js';
import type { LogChanges } from './log-changes.js';
import type { RegistryDatabase } from './schema.js';
import { stateDigest } from './state-digest.js';

/** origin center id → highest contiguous sequence held. */
export type VersionVector = ReadonlyMap<string, bigint>;

/** What a peer may receive: bodies only of events whose residency includes it. */
export interface PeerScope {
  readonly id: string;
  readonly jurisdiction: string;
}

/** How an event received from a peer was taken. */
export type IngestOutcome = 'applied' | 'header-only' | 'duplicate';

/** Events read from the log per query while streaming to a peer. */
const FEED_PAGE = 500;

/**
 * A center's log as replication sees it: its version vector, the events a peer lacks (in
 * this center's append order, which keeps every origin's order and every cause before its
 * effect), and the ingestion of events from peers — verified against their origin's key,
 * checked against the origin's hash chain, applied idempotently by (origin, seq).
 */
export class Replica {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly log: EventLog,
    private readonly center: CenterIdentity,
    private readonly originKey: (origin: string) => Uint8Array | undefined,
  ) {}

  /** Wakes followers when events have been committed here. */
  get changes(): LogChanges {
    return this.log.changes;
  }

  /** Digest of this center's derived state (see stateDigest): equal where events are equal. */
  stateDigest(): Promise<string> {
    return stateDigest(this.db);
  }

  /** This center's position: every origin's highest contiguous sequence. */
  async versionVector(): Promise<Map<string, bigint>> {
    const rows = await this.db.selectFrom('log_heads').select(['origin', 'seq']).execute();
    return new Map(rows.filter((r) => r.seq > 0n).map((r) => [r.origin, r.seq]));
  }

  /**
   * Streams every event the peer lacks per `vector`, then new ones as they are committed,
   * until `signal` aborts. Bodies outside an event's residency are withheld: the peer gets
   * the signed header only, so its sequence stays contiguous.
   */
  async *feed(
    peer: PeerScope,
    vector: VersionVector,
    signal: AbortSignal,
  ): AsyncGenerator<SignedEvent> {
    const sent = new Map(vector);
    let after = -1n;
    while (!signal.aborted) {
      const woken = this.log.changes.next(signal);
      const page = await this.#eventsAfter(sent, after);
      for (const row of page) {
        after = row.position;
        sent.set(row.origin, row.seq);
        const allowed = row.residency.length === 0 || row.residency.includes(peer.jurisdiction);
        yield create(SignedEventSchema, {
          header: row.header,
          signature: row.signature,
          body: allowed && row.body ? row.body : new Uint8Array(),
        });
      }
      if (page.length < FEED_PAGE) await woken;
    }
  }

  /**
   * Takes one event from a peer. Checklist, in order: signature by its origin's key (and
   * body matching the signed digest); body only where its residency allows this center, and
   * present wherever it does; next in its origin's sequence and hash chain (an event already
   * held must be the very same one — anything else is equivocation). Then stores and applies
   * it in one transaction.
   */
  async ingest(signed: SignedEvent): Promise<IngestOutcome> {
    const body = signed.body.length > 0 ? signed.body : undefined;
    const sealed = await openEvent(signed.header, signed.signature, body, this.originKey);
    this.#assertResidency(sealed);
    const outcome = await this.log.transact(this.db, async (tx) => {
      const head = await lockHead(tx, sealed.header.origin);
      if (sealed.header.seq <= head.seq) return this.#duplicate(tx, sealed);
      if (sealed.header.seq !== head.seq + 1n) {
        throw new VitrineError(
          'failed_precondition',
          `event ${sealed.header.origin}/${sealed.header.seq} arrived before ${sealed.header.origin}/${head.seq + 1n}`,
        );
      }
      assertChained(sealed.header, head.digest);
      await this.log.store(tx, sealed);
      if (sealed.body) await applyEvent(tx, sealed.header, sealed.body, false);
      // Last: locks are taken origin head → state rows → own head, the order local writes
      // (state rows → own head) agree with, so a local write and an ingest never deadlock.
      await this.log.observe(tx, sealed.header.hlc);
      return sealed.body ? ('applied' as const) : ('header-only' as const);
    });
    return outcome;
  }

  #assertResidency(sealed: SealedEvent): void {
    const { residency, origin, seq } = sealed.header;
    const mayHold = residency.length === 0 || residency.includes(this.center.jurisdiction);
    if (sealed.body && !mayHold) {
      throw new VitrineError(
        'permission_denied',
        `event ${origin}/${seq} may only be held in ${residency.join(', ')}; refused at ${this.center.id}`,
      );
    }
    if (!sealed.body && mayHold) {
      throw new VitrineError('data_loss', `event ${origin}/${seq} arrived without its body`);
    }
  }

  async #duplicate(tx: Kysely<RegistryDatabase>, sealed: SealedEvent): Promise<IngestOutcome> {
    const held = await tx
      .selectFrom('events')
      .select('digest')
      .where('origin', '=', sealed.header.origin)
      .where('seq', '=', sealed.header.seq)
      .executeTakeFirstOrThrow();
    if (!bytesEqual(held.digest, sealed.digest)) {
      throw new VitrineError(
        'data_loss',
        `origin ${sealed.header.origin} signed two different events with sequence ${sealed.header.seq}`,
      );
    }
    return 'duplicate';
  }

  /** Events after `position` that `vector` does not cover, in append order. */
  #eventsAfter(vector: VersionVector, position: bigint) {
    return this.db
      .selectFrom('events')
      .select(['position', 'origin', 'seq', 'residency', 'header', 'signature', 'body'])
      .where('position', '>', position)
      .where((eb) =>
        eb.and(
          [...vector].map(([origin, seq]) =>
            eb.or([eb('origin', '!=', origin), eb('seq', '>', seq)]),
          ),
        ),
      )
      .orderBy('position')
      .limit(FEED_PAGE)
      .execute();
  }
}
