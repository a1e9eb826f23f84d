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
  if (events.length === 0) return;
  await tx
    .insertInto('unapplied_events')
    .values(
      events.map(({ sealed, awaiting }) => ({
        origin: sealed.header.origin,
        seq: sealed.header.seq,
        awaiting_body: awaiting,
      })),
    )
    .execute();
}

/** Stores the bodies of events held here as headers alone; each still waits to be applied. */
export async function fillBodies(tx: Db, events: readonly SealedEvent[]): Promise<void> {
  for (const { header, body, bodyBytes } of events) {
    await tx
      .updateTable('events')
      .set({ body: bodyBytes ?? null, body_case: body?.change.case ?? null })
      .where('origin', '=', header.origin)
      .where('seq', '=', header.seq)
      .execute();
    await tx
      .updateTable('unapplied_events')
      .set({ awaiting_body: false })
      .where('origin', '=', header.origin)
      .where('seq', '=', header.seq)
      .execute();
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
    const rows = await tx
      .selectFrom('unapplied_events as u')
      .innerJoin('events as e', (join) =>
        join.onRef('e.origin', '=', 'u.origin').onRef('e.seq', '=', 'u.seq'),
      )
      .select(['u.origin', 'u.seq', 'u.awaiting_body', 'e.header', 'e.body'])
      .orderBy('e.position')
      .limit(RELEASE_PAGE)
      .execute();
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

/** Events whose body this center awaits, oldest first (in log order), at most `limit`. */
export function pendingBodies(db: Db, limit: number): Promise<PendingBody[]> {
  return db
    .selectFrom('unapplied_events as u')
    .innerJoin('events as e', (join) =>
      join.onRef('e.origin', '=', 'u.origin').onRef('e.seq', '=', 'u.seq'),
    )
    .select(['u.origin', 'u.seq', 'e.residency'])
    .where('u.awaiting_body', '=', true)
    .orderBy('e.position')
    .limit(limit)
    .execute();
}

/** How many events are stored here unapplied: awaiting their body, and held back behind. */
export async function unappliedCounts(db: Db): Promise<{ awaiting: bigint; heldBack: bigint }> {
  const rows = await db
    .selectFrom('unapplied_events')
    .select(['awaiting_body', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('awaiting_body')
    .execute();
  const count = (awaiting: boolean) =>
    BigInt(rows.find((r) => r.awaiting_body === awaiting)?.n ?? 0);
  return { awaiting: count(true), heldBack: count(false) };
}

/** Origin/sequence keys of the events whose body this center awaits. */
export async function awaitedKeys(db: Db): Promise<Set<string>> {
  const rows = await db
    .selectFrom('unapplied_events')
    .select(['origin', 'seq'])
    .where('awaiting_body', '=', true)
    .execute();
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
  for (const [origin, seqs] of byOrigin) {
    await tx
      .deleteFrom('unapplied_events')
      .where('origin', '=', origin)
      .where('seq', 'in', seqs)
      .execute();
  }
}
