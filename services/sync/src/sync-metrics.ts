import { metrics, type ObservableResult } from '@opentelemetry/api';
import type { CheckpointWitness, ChunkReplica, Replica } from '@vitrine/registry';
import { lazyInstruments } from '@vitrine/rpc';

/**
 * Replication counters, exported wherever OpenTelemetry metrics are configured (for
 * example OTEL_METRICS_EXPORTER=prometheus): events and chunks received from each peer,
 * and chunks a peer failed to deliver. Without an exporter they cost a no-op call. Made on
 * first use, and again once telemetry starts (see `lazyInstruments`).
 */
export const syncMetrics = lazyInstruments('vitrine-sync', (meter) => ({
  eventsReceived: meter.createCounter('vitrine.sync.events_received', {
    description: 'events received from a peer (including ones already held)',
  }),
  eventsApplied: meter.createCounter('vitrine.sync.events_applied', {
    description: 'events from a peer that were new here',
  }),
  bodiesFetched: meter.createCounter('vitrine.sync.bodies_fetched', {
    description: 'bodies of events held as headers alone, fetched from a peer',
  }),
  chunksFetched: meter.createCounter('vitrine.sync.chunks_fetched', {
    description: 'artifact chunks fetched from a peer and stored',
  }),
  bytesFetched: meter.createCounter('vitrine.sync.bytes_fetched', {
    unit: 'By',
    description: 'artifact bytes fetched from a peer and stored',
  }),
  chunksFailed: meter.createCounter('vitrine.sync.chunks_failed', {
    description:
      'artifact chunks asked of a peer that it failed to deliver (the call failed, or the chunk failed verification or could not be stored); they are asked again',
  }),
}));

/** What the sync gauges read, each time metrics are collected. */
export interface SyncGaugeSources {
  readonly replica: Replica;
  readonly chunks: ChunkReplica;
  readonly witness: CheckpointWitness | undefined;
  readonly peers: readonly string[];
  readonly now?: () => number;
}

/** Chunks counted as pending at most: counting is a query, bounded like GetStatus's. */
const PENDING_COUNT_LIMIT = 10_000;

/**
 * Registers the sync service's gauges, read from the database when metrics are collected:
 * - `vitrine.sync.peer_lag_events{peer}`: events of the peer's own log that its latest
 *   checkpoint seen here covers and this center does not hold yet;
 * - `vitrine.sync.peer_lag_seconds{peer}`: how long ago this center took the first of the
 *   peer's checkpoints that covers an event it still lacks (0 when caught up);
 * - `vitrine.sync.chunks_pending`: chunks this center still lacks for artifacts
 *   replicating here (counted up to 10,000).
 * Lag is known from the peers' checkpoints, which the checkpoint monitor fetches (every
 * `log.monitorIntervalMs`); without a witness the lag gauges report nothing. Call it after
 * telemetry starts; it returns a function that removes the gauges' callbacks.
 */
export function observeSync(sources: SyncGaugeSources): () => void {
  const meter = metrics.getMeter('vitrine-sync');
  const lagEvents = meter.createObservableGauge('vitrine.sync.peer_lag_events', {
    description: 'events of the peer’s log (its latest checkpoint seen here) not held here yet',
  });
  const lagSeconds = meter.createObservableGauge('vitrine.sync.peer_lag_seconds', {
    unit: 's',
    description:
      'seconds since this center took the first checkpoint of the peer covering an event it still lacks',
  });
  const pending = meter.createObservableGauge('vitrine.sync.chunks_pending', {
    description: 'chunks still lacked for artifacts replicating here (counted up to 10,000)',
  });
  const now = sources.now ?? Date.now;
  const observeLag = async (result: ObservableResult, which: 'events' | 'seconds') => {
    const { witness } = sources;
    if (!witness) return;
    const held = await sources.replica.versionVector();
    for (const peer of sources.peers) {
      const lag = await witness.lagOf(peer, held.get(peer) ?? 0n);
      if (!lag) continue;
      if (which === 'events') result.observe(lag.events, { peer });
      else result.observe(lag.since ? (now() - lag.since.getTime()) / 1000 : 0, { peer });
    }
  };
  const onLagEvents = (result: ObservableResult) => observeLag(result, 'events');
  const onLagSeconds = (result: ObservableResult) => observeLag(result, 'seconds');
  const onPending = async (result: ObservableResult) => {
    const missing = await sources.chunks.missing(PENDING_COUNT_LIMIT, { peek: true });
    result.observe(missing.length);
  };
  lagEvents.addCallback(onLagEvents);
  lagSeconds.addCallback(onLagSeconds);
  pending.addCallback(onPending);
  return () => {
    lagEvents.removeCallback(onLagEvents);
    lagSeconds.removeCallback(onLagSeconds);
    pending.removeCallback(onPending);
  };
}
