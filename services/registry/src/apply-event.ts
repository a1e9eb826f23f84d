import type { EventBody, EventHeader } from '@vitrine/proto/event';
import type { FindingCreated } from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import { applyArtifactPublished } from './artifact-store.js';
import {
  applyCommentAdded,
  applyFindingCreated,
  applyFindingsCreated,
  applyFindingUpdated,
} from './finding-store.js';
import type { RegistryDatabase } from './schema.js';

/** Where an event came from and when: what every applier records beside the change. */
export interface EventStamp {
  readonly origin: string;
  readonly seq: bigint;
  readonly hlc: bigint;
  readonly actor: string;
  readonly residency: readonly string[];
  /** Whether the event was made here (an upload) rather than received from a peer. */
  readonly local: boolean;
}

/**
 * Derives state from one event, deterministically: the same events applied in per-origin
 * order give the same tables at every center. Runs in the transaction that stores the event.
 */
export async function applyEvent(
  tx: Kysely<RegistryDatabase>,
  header: EventHeader,
  body: EventBody,
  local: boolean,
): Promise<void> {
  const at = stampOf(header, body, local);
  const change = body.change;
  switch (change.case) {
    case 'artifactPublished':
      return applyArtifactPublished(tx, at, change.value);
    case 'findingCreated':
      return applyFindingCreated(tx, at, change.value);
    case 'findingUpdated':
      return applyFindingUpdated(tx, at, change.value);
    case 'commentAdded':
      return applyCommentAdded(tx, at, change.value);
    case 'accessUsed':
      // The record is the event itself: it changes no artifact or finding.
      return;
    case undefined:
      throw new Error(`event ${header.origin}/${header.seq} has no change`);
    default: {
      const unknown: never = change;
      throw new Error(`no applier for event change ${String(unknown)}`);
    }
  }
}

/**
 * Derives state from events in order, as {@link applyEvent} does one by one, but a run of
 * consecutive FindingCreated events (independent rows) is recorded with one insert per
 * table: the bulk of a log a center catches up on.
 */
export async function applyEvents(
  tx: Kysely<RegistryDatabase>,
  events: readonly { header: EventHeader; body: EventBody }[],
  local: boolean,
): Promise<void> {
  let run: { at: EventStamp; body: FindingCreated }[] = [];
  for (const { header, body } of events) {
    if (body.change.case === 'findingCreated') {
      run.push({ at: stampOf(header, body, local), body: body.change.value });
      continue;
    }
    await applyFindingsCreated(tx, run);
    run = [];
    await applyEvent(tx, header, body, local);
  }
  await applyFindingsCreated(tx, run);
}

function stampOf(header: EventHeader, body: EventBody, local: boolean): EventStamp {
  return {
    origin: header.origin,
    seq: header.seq,
    hlc: header.hlc,
    actor: body.actor,
    residency: header.residency,
    local,
  };
}
