import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { FederationCenter } from '@vitrine/channel';
import type { SignedEvent } from '@vitrine/proto/event';
import {
  EventsPlaintextSchema,
  FetchEventsPlaintextSchema,
  type SyncService,
} from '@vitrine/proto/sync';
import type { EventRef } from '@vitrine/registry';
import type { Federation } from './federation.js';
import { openPeerSession } from './peer-session.js';
import { FETCH_EVENTS_STREAM } from './service.js';

/**
 * One FetchEvents call: asks `peer`, over a fresh session on `client`, for the events `refs`
 * names with their bodies, and yields those it sends as each sealed frame is opened. What
 * they are worth is not judged here: the replica verifies each against its origin's key and
 * the header held before it takes a body.
 */
export async function* fetchEventsFrom(
  federation: Federation,
  peer: FederationCenter,
  client: Client<typeof SyncService>,
  refs: readonly EventRef[],
  signal: AbortSignal,
): AsyncGenerator<SignedEvent, void, undefined> {
  const { session } = await openPeerSession(federation, peer, signal, client);
  const request = create(FetchEventsPlaintextSchema, {
    events: refs.map(({ origin, seq }) => ({ origin, seq })),
  });
  const frame = session
    .sender(FETCH_EVENTS_STREAM)
    .seal(toBinary(FetchEventsPlaintextSchema, request), { final: true });
  const receiver = session.receiver(FETCH_EVENTS_STREAM);
  for await (const res of client.fetchEvents({ sessionId: session.id, frame }, { signal })) {
    yield* fromBinary(EventsPlaintextSchema, receiver.open(res.frame).plaintext).events;
  }
}
