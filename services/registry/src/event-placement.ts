import { bytesEqual } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { assertChained, type HeldEvent, type SealedEvent } from '@vitrine/events';
import type { Kysely } from 'kysely';
import { lockHead, storedCopy } from './queries/events.js';
import type { RegistryDatabase } from './schema.js';
import { eventKey } from './unapplied-events.js';

type Db = Kysely<RegistryDatabase>;

/**
 * How an event received from a peer was taken: stored with its body (`applied`: its change
 * applied now, or as soon as the bodies of earlier events held back arrive); stored as the
 * header alone where its residency keeps the body from this center (`header-only`) or where
 * this center may hold the body but the peer could not send it (`body-pending`: the body is
 * fetched from a peer that holds it); the body of an event stored as `body-pending`
 * (`body-filled`); or a copy of an event held (`duplicate`).
 */
export type IngestOutcome =
  | 'applied'
  | 'header-only'
  | 'body-pending'
  | 'body-filled'
  | 'duplicate';

/** An event received, opened (verified), with the copy of it this center already holds. */
export interface Opened {
  readonly sealed: SealedEvent;
  readonly held: HeldEvent | undefined;
}

/**
 * Events placed in a transaction: each one's outcome, those to store, the refusal if any,
 * and the heads of the origins locked (moved past the events stored).
 */
export interface Placed {
  outcomes: IngestOutcome[];
  fresh: SealedEvent[];
  /** Events held as their header alone whose body came (verified against the header). */
  filled: SealedEvent[];
  heads: ReadonlyMap<string, { seq: bigint }>;
  refusal?: unknown;
}

/**
 * Where each event goes, in order, up to the first refused: a copy of one held (filling in
 * its body where it is awaited), or next of its origin — its header alone `body-pending`
 * where `mayHold` says this center may hold its body. Locks the heads of the origins of
 * the events that are not copies, sorted, for the rest of `tx`.
 */
export async function placeEvents(
  tx: Db,
  opened: readonly Opened[],
  awaited: ReadonlySet<string>,
  mayHold: (sealed: SealedEvent) => boolean,
): Promise<Placed> {
  const heads = new Map<string, { seq: bigint; digest: Uint8Array }>();
  const origins = new Set(opened.filter((o) => !isCopy(o)).map((o) => o.sealed.header.origin));
  for (const origin of [...origins].sort()) heads.set(origin, await lockHead(tx, origin));
  const placed: Placed = { outcomes: [], fresh: [], filled: [], heads };
  for (const event of opened) {
    try {
      const outcome = await placeOne(tx, event, heads, placed, awaited);
      const owed = outcome === 'header-only' && mayHold(event.sealed);
      placed.outcomes.push(owed ? 'body-pending' : outcome);
    } catch (error) {
      placed.refusal = error;
      break;
    }
  }
  return placed;
}

/** True for a byte-identical copy of an event this center holds. */
export function isCopy({ sealed, held }: Opened): boolean {
  return held !== undefined && bytesEqual(held.digest, sealed.digest);
}

/** True for a copy carrying the body of an event held here as its header alone. */
export function fills({ sealed }: Opened, awaited: ReadonlySet<string>): boolean {
  return (
    sealed.body !== undefined && awaited.has(eventKey(sealed.header.origin, sealed.header.seq))
  );
}

/**
 * One event's place: a copy of one held (filling in its body, if awaited), or the next of
 * its origin (added to `fresh`).
 */
async function placeOne(
  tx: Db,
  { sealed, held }: Opened,
  heads: Map<string, { seq: bigint; digest: Uint8Array }>,
  placed: Placed,
  awaited: ReadonlySet<string>,
): Promise<IngestOutcome> {
  const { fresh } = placed;
  if (isCopy({ sealed, held })) return fillOrDuplicate(sealed, placed, awaited);
  const { origin, seq } = sealed.header;
  const head = heads.get(origin);
  if (!head) throw new Error(`no locked head for origin ${origin}`);
  if (seq <= head.seq) {
    const inBatch = held
      ? -1
      : fresh.findIndex((e) => e.header.origin === origin && e.header.seq === seq);
    const known = held ?? fresh[inBatch] ?? (await storedCopy(tx, origin, seq));
    if (!bytesEqual(known.digest, sealed.digest)) {
      throw new VitrineError(
        'data_loss',
        `origin ${origin} signed two different events with sequence ${seq}`,
      );
    }
    if (inBatch < 0) return fillOrDuplicate(sealed, placed, awaited);
    // A second copy in one batch: it may bring the body the first lacked.
    if (!sealed.body || fresh[inBatch]?.body) return 'duplicate';
    fresh[inBatch] = sealed;
    return 'body-filled';
  }
  if (seq !== head.seq + 1n) {
    throw new VitrineError(
      'failed_precondition',
      `event ${origin}/${seq} arrived before ${origin}/${head.seq + 1n}`,
    );
  }
  assertChained(sealed.header, head.digest);
  heads.set(origin, { seq, digest: sealed.digest });
  fresh.push(sealed);
  return sealed.body ? 'applied' : 'header-only';
}

/**
 * A copy of an event held: it fills in the body where the event is held as its header alone
 * and the copy carries it, and is a duplicate otherwise.
 */
function fillOrDuplicate(
  sealed: SealedEvent,
  placed: Placed,
  awaited: ReadonlySet<string>,
): IngestOutcome {
  const { origin, seq } = sealed.header;
  if (!sealed.body || !awaited.has(eventKey(origin, seq))) return 'duplicate';
  if (placed.filled.some((e) => e.header.origin === origin && e.header.seq === seq)) {
    return 'duplicate';
  }
  placed.filled.push(sealed);
  return 'body-filled';
}
