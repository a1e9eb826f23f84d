import { fromBinary } from '@bufbuild/protobuf';
import { bytesEqual, sha256 } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { type HeldEvent, openEvents, type SealedEvent } from '@vitrine/events';
import { EventHeaderSchema, type SignedEvent } from '@vitrine/proto/event';
import { Mutex } from '@vitrine/storage';
import type { Kysely } from 'kysely';
import type { ArtifactArrivals } from './artifact-arrivals.js';
import type { CenterIdentity, EventLog } from './event-log.js';
import {
  fills,
  type IngestOutcome,
  isCopy,
  type Opened,
  type Placed,
  placeEvents,
} from './event-placement.js';
import { applyEvents } from './projections/apply-event.js';
import { headSeqs, storedCopies } from './queries/events.js';
import { RecentEvents } from './recent-events.js';
import type { RegistryDatabase } from './schema.js';
import type { ForkedOrigins } from './transparency/forked-origins.js';
import {
  type ApplicableEvent,
  applyReleased,
  awaitedKeys,
  eventKey,
  fillBodies,
  holdBack,
} from './unapplied-events.js';

type Db = Kysely<RegistryDatabase>;

export type { IngestOutcome };

/** Events remembered as taken lately (about 150 bytes each). */
const RECENT_EVENTS = 16_384;

/**
 * What became of events received from a peer: the outcome of each event taken, in order,
 * and — when one was refused — why. Events before the refused one are taken all the same,
 * so a peer that keeps sending a bad event cannot hold back the good ones before it.
 */
export interface IngestReport {
  readonly outcomes: readonly IngestOutcome[];
  readonly refusal?: unknown;
}

/**
 * Takes events from peers into a center's log, many per transaction: a peer streaming its
 * log costs one commit, one lock of each origin's head and one insert per batch instead of
 * per event, and a copy of an event already held (every event reaches a center once per
 * peer that forwards it) costs no transaction and no second signature check. Every event
 * still passes the whole checklist on its own (see {@link ingest}).
 */
export class EventIngest {
  /**
   * Per origin, a sequence this center is known to hold (a hint: heads only grow), so only
   * events at or below it are looked up as possible copies.
   */
  #heads: Map<string, bigint> | undefined;
  /**
   * Keys (eventKey) of the events whose body this center awaits. Every change to them goes
   * through this ingest, one batch at a time, so it matches the table; while it is not empty
   * events with bodies are held back behind them (see {@link applyInOrder}).
   */
  #awaited: Set<string> | undefined;
  /** Events taken lately: their copies from other peers need no query. */
  #recent = new RecentEvents(RECENT_EVENTS);

  /**
   * Drops what this ingest remembers of the log (head hints, awaited bodies, recent
   * events), so the next batch reads them from the database again. The memory holds only
   * while this process is the one ingesting: call this when it takes ingesting over from
   * another process of the center (see the sync lease).
   */
  forget(): void {
    this.#heads = undefined;
    this.#awaited = undefined;
    this.#recent = new RecentEvents(RECENT_EVENTS);
  }
  /**
   * One batch is taken at a time. Every peer forwards the same events, so batches from two
   * peers mostly overlap: taken in turn, the second finds the first's events held and costs
   * no signature check and no transaction, where taken at once both would verify every
   * event and the second would then wait on the origin's head lock anyway. Waiting also
   * lets the second peer's stream gather a larger batch.
   */
  readonly #turn = new Mutex();

  constructor(
    private readonly db: Db,
    private readonly log: EventLog,
    private readonly center: CenterIdentity,
    private readonly originKey: (origin: string) => Uint8Array | undefined,
    private readonly arrivals: ArtifactArrivals,
    private readonly forked: ForkedOrigins,
  ) {}

  /**
   * Takes events in the order sent. Checklist for each, in order: header vouched for by its
   * origin's key — its own signature, or the hash chain to a later event of the batch whose
   * signature is checked, so a run of one origin's events costs one check (openEvents); a
   * byte-identical copy of an event held here is not checked again — and body matching the
   * signed digest; origin not found forked by this center's witness (FAILED_PRECONDITION
   * until an operator resumes it); body only where its residency allows this center (a header alone is
   * taken where it does too: a peer outside the residency cannot send the body, which is then
   * awaited from one that can); next in its origin's sequence and hash chain (an event
   * already held must be the very same one — anything else is equivocation — and a copy
   * with the body of one held as its header alone fills it in). Those that pass are stored
   * and applied in one transaction, up to the first one refused.
   */
  async ingest(events: readonly SignedEvent[]): Promise<IngestReport> {
    const release = await this.#turn.lock();
    try {
      const copies = events.map((signed) => this.#isTakenCopy(signed));
      if (!copies.includes(false)) return { outcomes: copies.map(() => 'duplicate') };
      return withCopies(copies, await this.#ingestNow(events.filter((_, i) => !copies[i])));
    } finally {
      release();
    }
  }

  /**
   * Whether `signed` is byte for byte an event this center took lately, with the body it
   * took (or, as then, none): such a copy needs no decoding, no signature check and no
   * query. Anything else — a copy forgotten here, one with another body — is opened in full.
   */
  #isTakenCopy(signed: SignedEvent): boolean {
    const taken = this.#recent.taken(sha256(signed.header));
    if (!taken || !bytesEqual(taken.signature, signed.signature)) return false;
    if (taken.body === 'withheld') return signed.body.length === 0;
    return signed.body.length > 0 && bytesEqual(sha256(signed.body), taken.body.digest);
  }

  async #ingestNow(events: readonly SignedEvent[]): Promise<IngestReport> {
    this.#awaited ??= await awaitedKeys(this.db);
    const held = await this.#heldCopies(events);
    const received = events.map((signed, i) => ({
      headerBytes: signed.header,
      signature: signed.signature,
      bodyBytes: signed.body.length > 0 ? signed.body : undefined,
      held: held[i],
    }));
    const { opened: sealed, refusal: openRefusal } = await openEvents(received, this.originKey);
    const forked = await this.forked.current();
    const opened: Opened[] = [];
    let refusal: { error: unknown } | undefined =
      openRefusal === undefined ? undefined : { error: openRefusal };
    for (const [i, event] of sealed.entries()) {
      try {
        assertNotForked(event, forked);
        this.#assertResidency(event);
      } catch (error) {
        refusal = { error };
        break;
      }
      opened.push({ sealed: event, held: held[i] });
    }
    let report: IngestReport;
    try {
      report = await this.#commit(opened);
    } catch (error) {
      // Applying refused one of them (an SQL error rolls the whole batch back): take them
      // one at a time, so those before it are kept and it alone is refused.
      if (events.length > 1) return this.#oneByOne(events);
      throw error;
    }
    // A refusal while placing events comes before the one met opening them, if any.
    return report.refusal === undefined && refusal ? { ...report, refusal: refusal.error } : report;
  }

  async #oneByOne(events: readonly SignedEvent[]): Promise<IngestReport> {
    const outcomes: IngestOutcome[] = [];
    for (const event of events) {
      try {
        const report = await this.#ingestNow([event]);
        outcomes.push(...report.outcomes);
        if (report.refusal !== undefined) return { outcomes, refusal: report.refusal };
      } catch (refusal) {
        return { outcomes, refusal };
      }
    }
    return { outcomes };
  }

  /**
   * Stores and applies what was opened in one transaction — none at all when every event is
   * a copy of one held. Locks are taken origin heads (sorted) → state rows → own head
   * (observe, last), the order local writes (state rows → own head) agree with, so a local
   * write and an ingest never deadlock.
   */
  async #commit(opened: readonly Opened[]): Promise<IngestReport> {
    // Changed in the transaction, kept only once it commits.
    const awaited = new Set(this.#awaited);
    if (opened.every((o) => isCopy(o) && !fills(o, awaited))) {
      return { outcomes: opened.map(() => 'duplicate') };
    }
    let applied: ApplicableEvent[] = [];
    const report = await this.log.transact(this.db, async (tx): Promise<Placed> => {
      const placed = await placeEvents(tx, opened, awaited, (e) => this.#mayHold(e));
      await this.log.store(tx, placed.fresh);
      applied = await this.#applyInOrder(tx, placed, awaited);
      let latest = -1n;
      for (const sealed of placed.fresh) if (sealed.header.hlc > latest) latest = sealed.header.hlc;
      if (latest >= 0n) await this.log.observe(tx, latest);
      // Last: it locks this center's head (observe may have already).
      await this.log.recordApplied(tx, applied);
      return placed;
    });
    this.#awaited = awaited;
    this.#settle(report);
    if (applied.some((e) => e.body.change.case === 'artifactPublished')) this.arrivals.arrived();
    const { outcomes, refusal } = report;
    return refusal === undefined ? { outcomes } : { outcomes, refusal };
  }

  /**
   * Applies, in this center's log order, what a batch made ready: the events held back
   * behind bodies it filled in, then its new events — unless an event whose body is awaited
   * comes first, when they are held back behind it. Every center thus derives its state from
   * its log in order (each origin's order, every cause before its effect), whichever peer
   * sent a body and when. Returns the events applied.
   */
  async #applyInOrder(tx: Db, placed: Placed, awaited: Set<string>): Promise<ApplicableEvent[]> {
    let released: ApplicableEvent[] = [];
    if (placed.filled.length > 0) {
      await fillBodies(tx, placed.filled);
      for (const { header } of placed.filled) awaited.delete(eventKey(header.origin, header.seq));
      released = await applyReleased(tx);
    }
    const now: ApplicableEvent[] = [];
    const later: { sealed: SealedEvent; awaiting: boolean }[] = [];
    for (const sealed of placed.fresh) {
      const awaiting = !sealed.body && this.#mayHold(sealed);
      if (awaiting) awaited.add(eventKey(sealed.header.origin, sealed.header.seq));
      // A header whose body may never be held here changes no state.
      if (!sealed.body && !awaiting) continue;
      if (awaited.size > 0) later.push({ sealed, awaiting });
      else if (sealed.body) now.push({ header: sealed.header, body: sealed.body });
    }
    await applyEvents(tx, now, false);
    await holdBack(tx, later);
    return [...released, ...now];
  }

  /** Remembers what a committed batch stored, for the copies of it still to come. */
  #settle(report: Placed): void {
    for (const e of [...report.fresh, ...report.filled]) {
      const body = e.body ? { digest: e.header.bodyDigest } : 'withheld';
      this.#recent.remember(e.header.origin, e.header.seq, e, { signature: e.signature, body });
    }
    for (const [origin, head] of report.heads) {
      if (head.seq > (this.#heads?.get(origin) ?? 0n)) this.#heads?.set(origin, head.seq);
    }
  }

  /** The copy this center holds of each event, where it may hold one (by the head hints). */
  async #heldCopies(events: readonly SignedEvent[]): Promise<(HeldEvent | undefined)[]> {
    this.#heads ??= await headSeqs(this.db);
    const keys = events.map((e) => positionOf(e.header));
    const wanted = new Map<string, bigint[]>();
    for (const key of keys) {
      if (!key || this.#recent.get(key.origin, key.seq)) continue;
      // This center's own events are always held here.
      const own = key.origin === this.center.id;
      if (!own && key.seq > (this.#heads.get(key.origin) ?? 0n)) continue;
      wanted.set(key.origin, [...(wanted.get(key.origin) ?? []), key.seq]);
    }
    const recentOr = (key: { origin: string; seq: bigint } | undefined) =>
      key && this.#recent.get(key.origin, key.seq);
    if (wanted.size === 0) return keys.map(recentOr);
    const rows = await storedCopies(this.db, wanted);
    for (const row of rows) this.#recent.remember(row.origin, row.seq, row);
    return keys.map(recentOr);
  }

  #assertResidency(sealed: SealedEvent): void {
    const { residency, origin, seq } = sealed.header;
    if (sealed.body && !this.#mayHold(sealed)) {
      throw new VitrineError(
        'permission_denied',
        `event ${origin}/${seq} may only be held in ${residency.join(', ')}; refused at ${this.center.id}`,
      );
    }
  }

  /** Whether the event's residency lets this center hold its body. */
  #mayHold(sealed: SealedEvent): boolean {
    const { residency } = sealed.header;
    return residency.length === 0 || residency.includes(this.center.jurisdiction);
  }
}

/**
 * The report on a whole batch, from the report on those of its events that were not copies
 * of events taken lately (`copies[i]`): the copies are duplicates, wherever they stood, up
 * to the event refused, if one was.
 */
function withCopies(copies: readonly boolean[], report: IngestReport): IngestReport {
  const outcomes: IngestOutcome[] = [];
  let next = 0;
  for (const copy of copies) {
    const outcome = copy ? 'duplicate' : report.outcomes[next++];
    // Past the outcomes reported: this is the event refused, and nothing after it counts.
    if (outcome === undefined) break;
    outcomes.push(outcome);
  }
  return report.refusal === undefined ? { outcomes } : { outcomes, refusal: report.refusal };
}

/** Origin and sequence of an event's header bytes; undefined when they do not decode. */
function positionOf(headerBytes: Uint8Array): { origin: string; seq: bigint } | undefined {
  try {
    const { origin, seq } = fromBinary(EventHeaderSchema, headerBytes);
    return { origin, seq };
  } catch {
    return undefined;
  }
}

/** An origin whose log was found forked sends nothing more until an operator resumes it. */
function assertNotForked(event: SealedEvent, forked: ReadonlySet<string>): void {
  const { origin, seq } = event.header;
  if (!forked.has(origin)) return;
  throw new VitrineError(
    'failed_precondition',
    `event ${origin}/${seq} refused: ${origin}'s transparency log was found forked (vitrine log evidence); an operator resumes it with vitrine log resume`,
  );
}
