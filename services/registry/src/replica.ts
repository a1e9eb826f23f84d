import { create } from '@bufbuild/protobuf';
import { VitrineError } from '@vitrine/errors';
import { type SignedEvent, SignedEventSchema } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { ArtifactArrivals } from './artifact-arrivals.js';
import { EventIngest, type IngestOutcome, type IngestReport } from './event-ingest.js';
import type { CenterIdentity, EventLog } from './event-log.js';
import type { LogChanges } from './log-changes.js';
import { convergenceDigest } from './queries/convergence-digest.js';
import {
  type EventRef,
  eventsAfter,
  feedStart,
  headSeqs,
  residencyAt,
  withBodiesAt,
} from './queries/events.js';
import { stateDigest } from './queries/state-digest.js';
import { awaitingBodies, unappliedCounts } from './queries/unapplied-events.js';
import type { RegistryDatabase } from './schema.js';
import { ForkedOrigins } from './transparency/forked-origins.js';
import type { PendingBody } from './unapplied-events.js';

/** origin center id → highest contiguous sequence held. */
export type VersionVector = ReadonlyMap<string, bigint>;

/** What a peer may receive: bodies only of events whose residency includes it. */
export interface PeerScope {
  readonly id: string;
  readonly jurisdiction: string;
}

/** Events read from the log per query while streaming to a peer. */
const FEED_PAGE = 1000;
/** Events looked up per query while serving a peer the bodies it asked for. */
const BODIES_PAGE = 64;

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
    center: CenterIdentity,
    originKey: (origin: string) => Uint8Array | undefined,
    arrivals: ArtifactArrivals = new ArtifactArrivals(),
    /** Origins whose logs were found forked: their events are refused. */
    readonly forked: ForkedOrigins = new ForkedOrigins(db),
  ) {
    this.#ingest = new EventIngest(db, log, center, originKey, arrivals, forked);
  }

  /** Takes events from peers, many per transaction. */
  readonly #ingest: EventIngest;

  /**
   * Forgets what ingesting remembers of the log between batches, so it is read from the
   * database again: for a process that takes replication over from another process of the
   * same center, which ingested into the shared database meanwhile.
   */
  forgetIngested(): void {
    this.#ingest.forget();
  }

  /** Wakes followers when events have been committed here. */
  get changes(): LogChanges {
    return this.log.changes;
  }

  /** Digest of this center's derived state (see stateDigest): equal where events are equal. */
  stateDigest(): Promise<string> {
    return stateDigest(this.db);
  }

  /**
   * Digest of the signed history held (see convergenceDigest): equal at centers holding the
   * same events, whatever residency withholds from each.
   */
  convergenceDigest(): Promise<string> {
    return convergenceDigest(this.db);
  }

  /** Events whose body this center may hold and awaits from a peer, oldest first. */
  pendingBodies(limit: number): Promise<PendingBody[]> {
    return awaitingBodies(this.db, limit);
  }

  /**
   * How many events are stored here but not applied to the state yet: those whose body is
   * awaited, and those held back behind them (state is derived in log order).
   */
  unapplied(): Promise<{ awaiting: bigint; heldBack: bigint }> {
    return unappliedCounts(this.db);
  }

  /**
   * The events asked for that this center holds with their body, in the order asked, for a
   * peer that awaits their bodies; those it holds as headers alone or not at all are left
   * out. `permission_denied` (before anything is sent) when the peer's jurisdiction may not
   * hold one of them.
   */
  async *bodiesFor(peer: PeerScope, refs: readonly EventRef[]): AsyncGenerator<SignedEvent> {
    for (let at = 0; at < refs.length; at += BODIES_PAGE) {
      const rows = await residencyAt(this.db, refs.slice(at, at + BODIES_PAGE));
      const denied = rows.find(
        (r) => r.residency.length > 0 && !r.residency.includes(peer.jurisdiction),
      );
      if (denied) {
        throw new VitrineError(
          'permission_denied',
          `event ${denied.origin}/${denied.seq} may not be held in ${peer.jurisdiction}`,
        );
      }
    }
    for (let at = 0; at < refs.length; at += BODIES_PAGE) {
      const page = refs.slice(at, at + BODIES_PAGE);
      const rows = await withBodiesAt(this.db, page);
      const byKey = new Map(rows.map((r) => [`${r.origin}/${r.seq}`, r]));
      for (const ref of page) {
        const row = byKey.get(`${ref.origin}/${ref.seq}`);
        if (!row?.body) continue;
        yield create(SignedEventSchema, {
          header: row.header,
          signature: row.signature,
          body: row.body,
        });
      }
    }
  }

  /** This center's position: every origin's highest contiguous sequence. */
  async versionVector(): Promise<Map<string, bigint>> {
    const heads = await headSeqs(this.db);
    return new Map([...heads].filter(([, seq]) => seq > 0n));
  }

  /**
   * Streams every event the peer lacks per `vector`, then new ones as they are committed,
   * until `signal` aborts. Bodies outside an event's residency are withheld: the peer gets
   * the signed header only, so its sequence stays contiguous. The peer's own events are
   * sent only as far as this center held them when the feed began (a peer restored from a
   * backup gets back what it lost); later ones are its new appends, which it holds already.
   */
  async *feed(
    peer: PeerScope,
    vector: VersionVector,
    signal: AbortSignal,
  ): AsyncGenerator<SignedEvent> {
    const sent = new Map(vector);
    const heads = await this.versionVector();
    const peersOwn = { origin: peer.id, upTo: heads.get(peer.id) ?? 0n };
    const lacks = (row: { origin: string; seq: bigint }) =>
      row.seq > (sent.get(row.origin) ?? 0n) &&
      (row.origin !== peersOwn.origin || row.seq <= peersOwn.upTo);
    let after = await feedStart(this.db, heads, sent);
    // Catching up, the database leaves out what the peer holds; live, only new commits are
    // read, a plain index scan, and filtered here — cheaper than planning the filter.
    let live = false;
    const changes = this.log.changes.follow(signal);
    while (!signal.aborted) {
      const woken = changes.armed();
      const page = live
        ? await eventsAfter(this.db, after, FEED_PAGE)
        : await eventsAfter(this.db, after, FEED_PAGE, { vector: sent, peersOwn });
      for (const row of page) {
        after = row.position;
        if (!lacks(row)) continue;
        sent.set(row.origin, row.seq);
        const allowed = row.residency.length === 0 || row.residency.includes(peer.jurisdiction);
        yield create(SignedEventSchema, {
          header: row.header,
          signature: row.signature,
          body: allowed && row.body ? row.body : new Uint8Array(),
        });
      }
      if (page.length < FEED_PAGE) {
        live = true;
        await woken;
      }
    }
  }

  /** Takes one event from a peer (see {@link ingestAll}); throws if it is refused. */
  async ingest(signed: SignedEvent): Promise<IngestOutcome> {
    const { outcomes, refusal } = await this.ingestAll([signed]);
    if (refusal !== undefined) throw refusal;
    return outcomes[0] as IngestOutcome;
  }

  /**
   * Takes events from a peer, in the order sent, as few transactions as it can: each is
   * verified against its origin's key, checked against its origin's sequence and hash chain,
   * and applied idempotently by (origin, seq) — see EventIngest. Events before a refused one
   * are kept; the report says which was refused and why.
   */
  ingestAll(events: readonly SignedEvent[]): Promise<IngestReport> {
    return this.#ingest.ingest(events);
  }
}
