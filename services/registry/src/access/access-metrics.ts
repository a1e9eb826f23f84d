import { metrics } from '@opentelemetry/api';

const meter = metrics.getMeter('vitrine-registry');

/**
 * Access counters, exported wherever OpenTelemetry metrics are configured. Calls that carry
 * no verifiable credential cannot be attributed to anyone, so they are counted here (and
 * logged) rather than recorded as AccessUsed events.
 */
export const accessMetrics = {
  calls: meter.createCounter('vitrine.registry.access_checks', {
    description: 'registry calls by access outcome (allowed, refused) and gRPC code',
  }),
} as const;
