import type { HeldEvent, SealedEvent } from '@vitrine/events';
import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import { logLeaf } from '../transparency/log-leaf.js';
import { appendLogLeaves } from '../transparency/log-tree-store.js';

type Db = Kysely<RegistryDatabase>;

/** An event by its origin and sequence. */
export interface EventRef {
  readonly origin: string;
  readonly seq: bigint;
}

/**
 * An origin's log head, locked for the transaction; created at seq 0 so there is a row to
 * lock. One statement: an upsert that changes nothing takes the row lock and returns it.
 */
export function lockHead(tx: Db, origin: string) {
  return tx
    .insertInto('log_heads')
    .values({ origin, seq: 0n, digest: new Uint8Array(), hlc: 0n })
    .onConflict((oc) => oc.column('origin').doUpdateSet({ seq: sql`log_heads.seq` }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Moves `origin`'s clock to `hlc` unless it is later already, locking its head row. */
export async function raiseHeadClock(tx: Db, origin: string, hlc: bigint): Promise<void> {
  await tx
    .insertInto('log_heads')
    .values({ origin, seq: 0n, digest: new Uint8Array(), hlc })
    .onConflict((oc) =>
      oc.column('origin').doUpdateSet({ hlc: sql`greatest(log_heads.hlc, excluded.hlc)` }),
    )
    .execute();
}

/** Every origin's head sequence as stored now (0 for a head created only to be locked). */
export async function headSeqs(db: Db): Promise<Map<string, bigint>> {
  const rows = await db.selectFrom('log_heads').select(['origin', 'seq']).execute();
  return new Map(rows.map((row) => [row.origin, row.seq]));
}

/** Every origin's head that holds an event: its sequence and that event's header digest. */
export function heldHeads(db: Db) {
  return db
    .selectFrom('log_heads')
    .select(['origin', 'seq', 'digest'])
    .where('seq', '>', 0n)
    .execute();
}

/**
 * Inserts consecutive events of each origin, appends them to that origin's transparency
 * log (leaf seq − 1), and moves each origin's head to its last one.
 */
export async function storeEvents(tx: Db, events: readonly SealedEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.insertInto('events').values(events.map(eventRow)).execute();
  for (const run of runsByOrigin(events)) {
    const first = run[0] as SealedEvent;
    const last = run[run.length - 1] as SealedEvent;
    const { origin, seq, hlc } = last.header;
    const leaves = run.map((e) => logLeaf(e.headerBytes, e.signature));
    await appendLogLeaves(tx, origin, Number(first.header.seq) - 1, leaves);
    await tx
      .insertInto('log_heads')
      .values({ origin, seq, digest: last.digest, hlc })
      .onConflict((oc) => oc.column('origin').doUpdateSet({ seq, digest: last.digest, hlc }))
      .execute();
  }
}

/** Events grouped by origin, each group in the order given. */
function runsByOrigin(events: readonly SealedEvent[]): SealedEvent[][] {
  const runs = new Map<string, SealedEvent[]>();
  for (const event of events) {
    const run = runs.get(event.header.origin);
    if (run === undefined) runs.set(event.header.origin, [event]);
    else run.push(event);
  }
  return [...runs.values()];
}

/** The `events` row an event is stored as. */
export function eventRow(sealed: SealedEvent) {
  return {
    origin: sealed.header.origin,
    seq: sealed.header.seq,
    hlc: sealed.header.hlc,
    residency: sealed.header.residency,
    header: sealed.headerBytes,
    signature: sealed.signature,
    digest: sealed.digest,
    body_case: sealed.body?.change.case ?? null,
    body: sealed.bodyBytes ?? null,
  };
}

/** Stores the body of an event held as its header alone. */
export async function storeBody(tx: Db, sealed: SealedEvent): Promise<void> {
  await tx
    .updateTable('events')
    .set({ body: sealed.bodyBytes ?? null, body_case: sealed.body?.change.case ?? null })
    .where('origin', '=', sealed.header.origin)
    .where('seq', '=', sealed.header.seq)
    .execute();
}

/** The digest and signature of a stored event (which must be there). */
export function storedCopy(tx: Db, origin: string, seq: bigint): Promise<HeldEvent> {
  return tx
    .selectFrom('events')
    .select(['digest', 'signature'])
    .where('origin', '=', origin)
    .where('seq', '=', seq)
    .executeTakeFirstOrThrow();
}

/** The digest and signature of those of the events named (origin → sequences) held here. */
export function storedCopies(db: Db, wanted: ReadonlyMap<string, readonly bigint[]>) {
  return db
    .selectFrom('events')
    .select(['origin', 'seq', 'digest', 'signature'])
    .where((eb) =>
      eb.or(
        [...wanted].map(([origin, seqs]) =>
          eb.and([eb('origin', '=', origin), eb('seq', 'in', [...seqs])]),
        ),
      ),
    )
    .execute();
}

/** The residency of those of the events named held here. */
export function residencyAt(db: Db, refs: readonly EventRef[]) {
  return eventsAt(db, refs).select(['origin', 'seq', 'residency']).execute();
}

/** Those of the events named held here with their body: header, signature and body. */
export function withBodiesAt(db: Db, refs: readonly EventRef[]) {
  return eventsAt(db, refs)
    .select(['origin', 'seq', 'header', 'signature', 'body'])
    .where('body', 'is not', null)
    .execute();
}

/** The events named by `refs` (a query to select columns from). */
function eventsAt(db: Db, refs: readonly EventRef[]) {
  return db
    .selectFrom('events')
    .where((eb) =>
      eb.or(refs.map((r) => eb.and([eb('origin', '=', r.origin), eb('seq', '=', r.seq)]))),
    );
}

/**
 * Where a feed for a peer at `vector` may start: just before the first event it lacks of
 * each origin held here, or before the last held (nothing lacked: the next comes after it).
 * An origin's events are stored in sequence order (each is next in its chain, under its
 * head's lock), so none it lacks comes earlier; one lookup per origin instead of reading the
 * whole log past what the peer holds. -1 when nothing is held.
 */
export async function feedStart(
  db: Db,
  heads: ReadonlyMap<string, bigint>,
  vector: ReadonlyMap<string, bigint>,
): Promise<bigint> {
  const refs = [...heads]
    .filter(([, head]) => head > 0n)
    .map(([origin, head]) => {
      const next = (vector.get(origin) ?? 0n) + 1n;
      return { origin, seq: next < head ? next : head };
    });
  if (refs.length === 0) return -1n;
  const { first } = await eventsAt(db, refs)
    .select((eb) => eb.fn.min('position').as('first'))
    .executeTakeFirstOrThrow();
  return first === null ? -1n : BigInt(first) - 1n;
}

/**
 * Up to `limit` events after `position`, in append order. With `lacking`, only those its
 * vector does not cover, leaving out those of `peersOwn.origin` past `peersOwn.upTo`.
 */
export function eventsAfter(
  db: Db,
  position: bigint,
  limit: number,
  lacking?: {
    readonly vector: ReadonlyMap<string, bigint>;
    readonly peersOwn: { readonly origin: string; readonly upTo: bigint };
  },
) {
  let query = db
    .selectFrom('events')
    .select(['position', 'origin', 'seq', 'residency', 'header', 'signature', 'body'])
    .where('position', '>', position);
  if (lacking) {
    const { vector, peersOwn } = lacking;
    query = query.where((eb) =>
      eb.and([
        ...[...vector].map(([origin, seq]) =>
          eb.or([eb('origin', '!=', origin), eb('seq', '>', seq)]),
        ),
        eb.or([eb('origin', '!=', peersOwn.origin), eb('seq', '<=', peersOwn.upTo)]),
      ]),
    );
  }
  return query.orderBy('position').limit(limit).execute();
}
