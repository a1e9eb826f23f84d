import type { EventBody, EventHeader } from '@vitrine/proto/event';
import type { FindingCreated } from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import { applyArtifactPublished } from './artifact.js';
import { type EventStamp, stampOf } from './event-stamp.js';
import {
  applyCommentAdded,
  applyFindingCreated,
  applyFindingsCreated,
  applyFindingUpdated,
} from './finding.js';

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
