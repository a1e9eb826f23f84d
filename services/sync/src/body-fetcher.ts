import type { Client } from '@connectrpc/connect';
import type { FederationCenter } from '@vitrine/channel';
import type { SyncService } from '@vitrine/proto/sync';
import type { PendingBody, Replica } from '@vitrine/registry';
import { Backoff, type Logger } from '@vitrine/rpc';
import type { SyncConfig } from './config.js';
import type { Federation } from './federation.js';
import { fetchEventsFrom } from './peer-events.js';
import { peerClient } from './peer-session.js';
import type { PeerStatuses } from './peer-status.js';
import { readyBatches } from './ready-batches.js';
import { MAX_FETCH_EVENTS } from './service.js';
import { syncMetrics } from './sync-metrics.js';

/** Events taken in one transaction as a peer's answer arrives. */
const INGEST_BATCH = 256;

/**
 * Fetches the bodies of events this center may hold but has as signed headers alone — a
 * peer outside their residency forwarded them, as it must, without — from peers whose
 * jurisdiction may hold them, the event's origin first. Each body is checked by the replica
 * against the header held, and the events held back behind it are then applied. Wakes when
 * events are committed; backs off while no peer can help.
 */
export class BodyFetcher {
  readonly #stop = new AbortController();
  /** One client, so one HTTP/2 connection, per peer. */
  readonly #clients = new Map<string, Client<typeof SyncService>>();
  #running: Promise<void> | undefined;

  constructor(
    private readonly federation: Federation,
    private readonly replica: Replica,
    private readonly statuses: PeerStatuses,
    private readonly backoff: SyncConfig['backoff'],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#running = this.#run(this.#stop.signal);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.backoff);
    const changes = this.replica.changes.follow(signal);
    while (!signal.aborted) {
      const woken = changes.armed();
      try {
        const pending = await this.replica.pendingBodies(MAX_FETCH_EVENTS);
        if (pending.length === 0) {
          await woken;
          continue;
        }
        if (await this.#round(pending, signal)) {
          backoff.reset();
          continue;
        }
      } catch (err) {
        if (signal.aborted) break;
        this.logger.warn({ err: String(err) }, 'fetching event bodies failed');
      }
      await backoff.wait(signal);
    }
  }

  /** Asks each peer that may hold some of `pending` for them in turn; true when any came. */
  async #round(pending: readonly PendingBody[], signal: AbortSignal): Promise<boolean> {
    let left = [...pending];
    let filled = 0;
    for (const peer of this.#peersFor(pending)) {
      const asked = left.filter((p) => mayHold(peer, p));
      if (asked.length === 0) continue;
      try {
        filled += await this.#fetchFrom(peer, asked, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        this.statuses.of(peer.id).lastError = err instanceof Error ? err.message : String(err);
        this.logger.warn(
          { peer: peer.id, err: String(err) },
          'fetching event bodies from peer failed',
        );
      }
      const still = new Set((await this.replica.pendingBodies(MAX_FETCH_EVENTS)).map(keyOf));
      left = left.filter((p) => still.has(keyOf(p)));
      if (left.length === 0) break;
    }
    return filled > 0;
  }

  /** One FetchEvents call to `peer`, its answer taken as it arrives; bodies filled in. */
  async #fetchFrom(
    peer: FederationCenter,
    asked: readonly PendingBody[],
    signal: AbortSignal,
  ): Promise<number> {
    const client = this.#clients.get(peer.id) ?? peerClient(this.federation, peer);
    this.#clients.set(peer.id, client);
    const events = fetchEventsFrom(this.federation, peer, client, asked, signal);
    let filled = 0;
    for await (const batch of readyBatches(events, INGEST_BATCH)) {
      const { outcomes, refusal } = await this.replica.ingestAll(batch);
      const got = outcomes.filter((o) => o === 'body-filled').length;
      filled += got;
      this.statuses.of(peer.id).bodiesFetched += got;
      syncMetrics.bodiesFetched.add(got, { peer: peer.id });
      if (refusal !== undefined) throw refusal;
    }
    return filled;
  }

  /** The peers that may hold any of `pending`: origins of pending events first, then by id. */
  #peersFor(pending: readonly PendingBody[]): FederationCenter[] {
    const origins = new Set(pending.map((p) => p.origin));
    return this.federation.manifest.centers
      .filter((c) => c.id !== this.federation.self.id && pending.some((p) => mayHold(c, p)))
      .sort(
        (a, b) => Number(origins.has(b.id)) - Number(origins.has(a.id)) || a.id.localeCompare(b.id),
      );
  }
}

/** Whether `center`'s jurisdiction may hold the body of `event`. */
function mayHold(center: FederationCenter, event: PendingBody): boolean {
  return event.residency.length === 0 || event.residency.includes(center.jurisdiction);
}

function keyOf(event: PendingBody): string {
  return `${event.origin}/${event.seq}`;
}
