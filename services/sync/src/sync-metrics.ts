import { metrics } from '@opentelemetry/api';

const meter = metrics.getMeter('vitrine-sync');

/**
 * Replication counters, exported wherever OpenTelemetry metrics are configured (for
 * example OTEL_METRICS_EXPORTER=prometheus): events and chunks received from each peer.
 * Without an exporter they cost a no-op call.
 */
export const syncMetrics = {
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
} as const;
