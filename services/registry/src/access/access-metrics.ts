import { lazyInstruments } from '@vitrine/rpc';

/**
 * Access counters, exported wherever OpenTelemetry metrics are configured. Calls that carry
 * no verifiable credential cannot be attributed to anyone, so they are counted here (and
 * logged) rather than recorded as AccessUsed events. Made on first use, and again once
 * telemetry starts (see `lazyInstruments`).
 */
export const accessMetrics = lazyInstruments('vitrine-registry', (meter) => ({
  calls: meter.createCounter('vitrine.registry.access_checks', {
    description:
      'registry calls by access outcome (allowed, refused), gRPC code and whether a proven credential was attributed',
  }),
}));
