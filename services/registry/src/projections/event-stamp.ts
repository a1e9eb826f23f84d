import type { EventBody, EventHeader } from '@vitrine/proto/event';

/** Where an event came from and when: what every projection records beside the change. */
export interface EventStamp {
  readonly origin: string;
  readonly seq: bigint;
  readonly hlc: bigint;
  readonly actor: string;
  readonly residency: readonly string[];
  /** Whether the event was made here (an upload) rather than received from a peer. */
  readonly local: boolean;
}

/** The stamp of an event as it is applied here. */
export function stampOf(header: EventHeader, body: EventBody, local: boolean): EventStamp {
  return {
    origin: header.origin,
    seq: header.seq,
    hlc: header.hlc,
    actor: body.actor,
    residency: header.residency,
    local,
  };
}
