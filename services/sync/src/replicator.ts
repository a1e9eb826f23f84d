import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { FederationCenter } from '@vitrine/channel';
import { EventsPlaintextSchema, SubscribePlaintextSchema } from '@vitrine/proto/sync';
import type { Replica } from '@vitrine/registry';
import { Backoff, type Logger } from '@vitrine/rpc';
import type { SyncConfig } from './config.js';
import type { Federation } from './federation.js';
import { openPeerSession } from './peer-session.js';
import type { PeerStatuses } from './peer-status.js';
import { readyBatches } from './ready-batches.js';
import { SUBSCRIBE_STREAM } from './service.js';
import { syncMetrics } from './sync-metrics.js';

/**
 * Most events taken in one transaction: what arrived while the previous batch was being
 * stored. A peer catching up on a long log streams faster than events can be stored one by
 * one; a live event still goes in as soon as it arrives.
 */
export const INGEST_BATCH = 1024;

/**
 * Keeps this center subscribed to every peer in the federation manifest: handshake,
 * subscribe with the current version vector, ingest what arrives (each event verified
 * against its origin's key, whoever forwarded it), and on any failure back off and
 * resume from the position the log holds — which is persisted with every event.
 */
export class Replicator {
  readonly #stop = new AbortController();
  readonly #running: Promise<void>[] = [];

  constructor(
    private readonly federation: Federation,
    private readonly replica: Replica,
    private readonly statuses: PeerStatuses,
    private readonly backoff: SyncConfig['backoff'],
    private readonly logger: Logger,
  ) {}

  /** Starts one subscription loop per peer. */
  start(): void {
    for (const peer of this.federation.manifest.centers) {
      if (peer.id === this.federation.self.id) continue;
      this.statuses.of(peer.id);
      this.#running.push(this.#follow(peer));
    }
  }

  /** Ends every subscription and waits for the loops to finish. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#running);
  }

  async #follow(peer: FederationCenter): Promise<void> {
    const signal = this.#stop.signal;
    const status = this.statuses.of(peer.id);
    const backoff = new Backoff(this.backoff);
    while (!signal.aborted) {
      try {
        await this.#subscribeOnce(peer, signal);
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        status.lastError = err instanceof Error ? err.message : String(err);
        this.logger.warn({ peer: peer.id, err: status.lastError }, 'subscription to peer failed');
      }
      status.connected = false;
      await backoff.wait(signal);
    }
  }

  /** One subscription: returns when the peer ends the stream, throws when it fails. */
  async #subscribeOnce(peer: FederationCenter, signal: AbortSignal): Promise<void> {
    const status = this.statuses.of(peer.id);
    const { client, session } = await openPeerSession(this.federation, peer, signal);
    const vector = await this.replica.versionVector();
    const request = create(SubscribePlaintextSchema, {
      versionVector: [...vector].map(([origin, seq]) => ({ origin, seq })),
    });
    const first = session
      .sender(SUBSCRIBE_STREAM)
      .seal(toBinary(SubscribePlaintextSchema, request), {
        final: true,
      });
    const receiver = session.receiver(SUBSCRIBE_STREAM);
    // Ends the stream when ingesting fails, as well as when the service stops.
    const done = new AbortController();
    const stream = client.subscribe(
      { sessionId: session.id, frame: first },
      { signal: AbortSignal.any([signal, done.signal]) },
    );
    status.connected = true;
    status.lastError = '';
    async function* events() {
      for await (const res of stream) {
        const opened = receiver.open(res.frame);
        yield* fromBinary(EventsPlaintextSchema, opened.plaintext).events;
      }
    }
    try {
      for await (const batch of readyBatches(events(), INGEST_BATCH)) {
        status.lastContact = new Date();
        status.eventsReceived += batch.length;
        syncMetrics.eventsReceived.add(batch.length, { peer: peer.id });
        const { outcomes, refusal } = await this.replica.ingestAll(batch);
        const applied = outcomes.filter((outcome) => outcome === 'applied').length;
        status.eventsApplied += applied;
        syncMetrics.eventsApplied.add(applied, { peer: peer.id });
        if (refusal !== undefined) throw refusal;
      }
    } finally {
      done.abort();
    }
  }
}
