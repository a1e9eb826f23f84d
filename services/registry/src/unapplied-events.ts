import { fromBinary } from '@bufbuild/protobuf';
import type { SealedEvent } from '@vitrine/events';
import {
  type EventBody,
  EventBodySchema,
  type EventHeader,
  EventHeaderSchema,
} from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { applyEvents } from './projections/apply-event.js';
import { storeBody } from './queries/events.js';
import {
  awaitedEvents,
  deleteUnapplied,
  insertUnapplied,
  markBodyArrived,
  unappliedInOrder,
} from './queries/unapplied-events.js';
import type { RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase>;

/** Unapplied events read per query when their bodies have arrived. */
const RELEASE_PAGE = 1000;

/** An event whose body this center may hold and still awaits from a peer. */
export interface PendingBody {
  readonly origin: string;
  readonly seq: bigint;
  /** Jurisdictions the body may be held in (empty: every one): the peers worth asking. */
  readonly residency: readonly string[];
}

/** An event as the state appliers take it. */
export interface ApplicableEvent {
  readonly header: EventHeader;
  readonly body: EventBody;
}

/**
 * Records events stored but not applied: `awaiting` says of each whether its body is still to
 * come (otherwise it waits behind one that is). Called in the transaction that stores them.
 */
export async function holdBack(
  tx: Db,
  events: readonly { readonly sealed: SealedEvent; readonly awaiting: boolean }[],
): Promise<void> {
  await insertUnapplied(
    tx,
    events.map(({ sealed, awaiting }) => ({
      origin: sealed.header.origin,
      seq: sealed.header.seq,
      awaiting_body: awaiting,
    })),
  );
}

/** Stores the bodies of events held here as headers alone; each still waits to be applied. */
export async function fillBodies(tx: Db, events: readonly SealedEvent[]): Promise<void> {
  for (const sealed of events) {
    await storeBody(tx, sealed);
    await markBodyArrived(tx, sealed.header.origin, sealed.header.seq);
  }
}

/**
 * Applies unapplied events in this center's log order up to the first whose body is still
 * awaited, and forgets them: the state then is what applying the log in order gives, as if
 * every body had come with its header. Returns the events applied.
 */
export async function applyReleased(tx: Db): Promise<ApplicableEvent[]> {
  const released: ApplicableEvent[] = [];
  for (;;) {
    const rows = await unappliedInOrder(tx, RELEASE_PAGE);
    const ready: ApplicableEvent[] = [];
    for (const row of rows) {
      if (row.awaiting_body || !row.body) break;
      ready.push({
        header: fromBinary(EventHeaderSchema, row.header),
        body: fromBinary(EventBodySchema, row.body),
      });
    }
    if (ready.length === 0) return released;
    await applyEvents(tx, ready, false);
    await forget(tx, ready);
    released.push(...ready);
    if (ready.length < rows.length || rows.length < RELEASE_PAGE) return released;
  }
}

/** Origin/sequence keys of the events whose body this center awaits. */
export async function awaitedKeys(db: Db): Promise<Set<string>> {
  const rows = await awaitedEvents(db);
  return new Set(rows.map((r) => eventKey(r.origin, r.seq)));
}

/** The key an event goes by in sets of events: `origin/seq`. */
export function eventKey(origin: string, seq: bigint): string {
  return `${origin}/${seq}`;
}

async function forget(tx: Db, events: readonly ApplicableEvent[]): Promise<void> {
  const byOrigin = new Map<string, bigint[]>();
  for (const { header } of events) {
    byOrigin.set(header.origin, [...(byOrigin.get(header.origin) ?? []), header.seq]);
  }
  for (const [origin, seqs] of byOrigin) await deleteUnapplied(tx, origin, seqs);
}
