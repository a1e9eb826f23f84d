/**
 * What a process holds after `startTelemetry`: whether an SDK runs, and how to flush
 * and stop it on shutdown so the last spans and metrics are not lost.
 */
export interface Telemetry {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/** Variables that say where telemetry goes; without any of them nothing is exported. */
const TRACE_VARS = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] as const;
const METRIC_VARS = ['OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] as const;
const COMMON_VARS = ['OTEL_EXPORTER_OTLP_ENDPOINT'] as const;

/** True when one of `names` is set to something other than "none". */
function anySet(env: NodeJS.ProcessEnv, names: readonly string[]): boolean {
  return names.some((name) => {
    const value = env[name]?.trim();
    return value !== undefined && value !== '' && value !== 'none';
  });
}

/**
 * Which signals (traces, metrics) the environment configures an exporter for — the
 * whole decision of whether telemetry runs, exported so a service can log it at start.
 */
export function configuredSignals(env: NodeJS.ProcessEnv = process.env): {
  traces: boolean;
  metrics: boolean;
} {
  const common = anySet(env, COMMON_VARS);
  return {
    traces: common || anySet(env, TRACE_VARS),
    metrics: common || anySet(env, METRIC_VARS),
  };
}

const DISABLED: Telemetry = Object.freeze({
  enabled: false,
  shutdown: () => Promise.resolve(),
});

/**
 * Starts the OpenTelemetry SDK for a process — once, before its servers and clients are
 * created — but only when an exporter is configured (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER, e.g. `prometheus` for a scrape
 * endpoint). Otherwise it loads nothing, prints nothing and the interceptors record to
 * the API's no-op providers, so a first run or a test stays quiet and fast.
 *
 * A signal without its own exporter is left off rather than defaulted to OTLP, so
 * `OTEL_METRICS_EXPORTER=prometheus` alone does not try to ship traces to localhost.
 */
export async function startTelemetry(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Telemetry> {
  const signals = configuredSignals(env);
  if (!signals.traces && !signals.metrics) return DISABLED;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName,
    ...(signals.traces ? {} : { spanProcessors: [] }),
    ...(signals.metrics ? {} : { metricReaders: [] }),
  });
  sdk.start();
  return {
    enabled: true,
    shutdown: () => sdk.shutdown(),
  };
}
