import type { Event } from '@vitrine/proto/event';
import type { Kysely } from 'kysely';
import { applyArtifactPublished } from './artifact-store.js';
import { applyCommentAdded, applyFindingCreated, applyFindingUpdated } from './finding-store.js';
import type { RegistryDatabase } from './schema.js';

/**
 * Derives state from one event, deterministically: the same events applied in per-origin
 * order give the same tables at every center. Runs in the transaction that stores the event.
 */
export async function applyEvent(tx: Kysely<RegistryDatabase>, event: Event): Promise<void> {
  const at = { origin: event.origin, seq: event.seq, hlc: event.hlc, actor: event.actor };
  const body = event.body;
  switch (body.case) {
    case 'artifactPublished':
      return applyArtifactPublished(tx, at, body.value);
    case 'findingCreated':
      return applyFindingCreated(tx, at, body.value);
    case 'findingUpdated':
      return applyFindingUpdated(tx, at, body.value);
    case 'commentAdded':
      return applyCommentAdded(tx, at, body.value);
    case undefined:
      throw new Error(`event ${event.origin}/${event.seq} has no body`);
    default: {
      const unknown: never = body;
      throw new Error(`no applier for event body ${String(unknown)}`);
    }
  }
}

/** Where an event came from and when: what every applier records beside the change. */
export interface EventStamp {
  readonly origin: string;
  readonly seq: bigint;
  readonly hlc: bigint;
  readonly actor: string;
}
