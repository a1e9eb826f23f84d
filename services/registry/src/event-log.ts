import { create } from '@bufbuild/protobuf';
import type { SigningKeyPair } from '@vitrine/crypto';
import { nextHlc, type SealedEvent, sealEvent } from '@vitrine/events';
import { type EventBody, EventBodySchema, type EventHeader } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { changesFinding, recordFindingChanges } from './finding-changes.js';
import { LogChanges } from './log-changes.js';
import { applyEvents } from './projections/apply-event.js';
import { lockHead, raiseHeadClock, storeEvents } from './queries/events.js';
import type { RegistryDatabase } from './schema.js';

/** What an event changes: one of the `EventBody.change` cases. */
export type EventChange = Exclude<EventBody['change'], { case: undefined }>;

/**
 * What a local event changes, or a function that makes it once the event's sequence is
 * allocated, under the log-head lock: for changes named after their sequence (comment
 * ids) or after a count that must not race another writer's (finding numbers).
 */
export type LogChange = EventChange | ((seq: bigint) => EventChange | Promise<EventChange>);

/** One local event to append: who made it, what it changes, where its body may be held. */
export interface LogEntry {
  readonly actor: string;
  readonly change: LogChange;
  readonly residency?: readonly string[];
}

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
   * a function called under the log-head lock (see {@link LogChange}). `residency` says
   * where the event's body may be held (empty: everywhere).
   */
  async append(
    tx: Kysely<RegistryDatabase>,
    actor: string,
    change: LogChange,
    residency: readonly string[] = [],
  ): Promise<SealedEvent> {
    const [sealed] = await this.appendAll(tx, [{ actor, change, residency }]);
    return sealed as SealedEvent;
  }

  /**
   * Appends several local events inside `tx` under one lock of the log head, with one insert
   * for all of them: what a batch of records (AccessUsed) costs is close to one event's.
   * `entries` may be a function, called once the head is locked: a group commit takes its
   * batch then, so the calls that arrived while it waited for the lock join it.
   */
  async appendAll(
    tx: Kysely<RegistryDatabase>,
    entries: readonly LogEntry[] | (() => readonly LogEntry[]),
  ): Promise<SealedEvent[]> {
    const head = await this.#lockedHead(tx);
    let { seq, hlc, digest } = head;
    const list = typeof entries === 'function' ? entries() : entries;
    const sealed: SealedEvent[] = [];
    for (const entry of list) {
      seq += 1n;
      hlc = nextHlc(hlc, this.now());
      const change = typeof entry.change === 'function' ? await entry.change(seq) : entry.change;
      const body = create(EventBodySchema, { actor: entry.actor, change });
      const fields = {
        origin: this.center.id,
        seq,
        hlc,
        prevDigest: digest,
        residency: [...(entry.residency ?? [])].sort(),
      };
      const event = await sealEvent(fields, body, this.center.signingKey);
      digest = event.digest;
      sealed.push(event);
    }
    await storeEvents(tx, sealed);
    const applied = sealed.map((e) => ({ header: e.header, body: e.body as EventBody }));
    await applyEvents(tx, applied, true);
    // The head is locked, as recording finding changes needs.
    await recordFindingChanges(tx, applied);
    return sealed;
  }

  /**
   * Records the finding changes among events from peers applied in `tx`, at the next watch
   * positions, taking this center's log-head lock for the rest of `tx` first (see
   * recordFindingChanges) — only when one of them changes a finding.
   */
  async recordApplied(
    tx: Kysely<RegistryDatabase>,
    events: readonly { readonly header: EventHeader; readonly body: EventBody }[],
  ): Promise<void> {
    if (!events.some((e) => changesFinding(e.body))) return;
    await this.#lockedHead(tx);
    await recordFindingChanges(tx, events);
  }

  /**
   * Moves this center's clock past a timestamp seen on an event from a peer (HLC receive
   * rule), locking this center's head for the rest of `tx` as an append would.
   */
  async observe(tx: Kysely<RegistryDatabase>, hlc: bigint): Promise<void> {
    await raiseHeadClock(tx, this.center.id, hlc);
  }

  /**
   * Inserts events (verified, each next in its origin's chain, in the order given) with one
   * insert, and advances each origin's head to its last event.
   */
  async store(tx: Kysely<RegistryDatabase>, events: readonly SealedEvent[]): Promise<void> {
    await storeEvents(tx, events);
  }

  #lockedHead(tx: Kysely<RegistryDatabase>) {
    return lockHead(tx, this.center.id);
  }
}
