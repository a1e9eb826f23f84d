import { metersChanged } from './meters.js';

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

/** What a process tells telemetry about itself beyond its service name. */
export interface TelemetryOptions {
  /** The center the process serves: the resource attribute `vitrine.center`. */
  readonly center?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

/** Where the Prometheus endpoint listens unless OTEL_EXPORTER_PROMETHEUS_HOST says. */
const DEFAULT_PROMETHEUS_HOST = '127.0.0.1';
const DEFAULT_PROMETHEUS_PORT = 9464;

/** The metric exporters OTEL_METRICS_EXPORTER names (OTLP when only an endpoint is set). */
function metricExporters(env: NodeJS.ProcessEnv): string[] {
  const named = (env.OTEL_METRICS_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return named.length > 0 ? named : ['otlp'];
}

/**
 * The address of the Prometheus endpoint a process started with `env` serves
 * (`http://host:port/metrics`), or undefined when no Prometheus exporter is configured.
 * The host is OTEL_EXPORTER_PROMETHEUS_HOST, loopback by default — metrics say how a
 * center is doing and are not served to every network it is on unless asked — and the
 * port OTEL_EXPORTER_PROMETHEUS_PORT (default 9464).
 */
export function metricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!configuredSignals(env).metrics || !metricExporters(env).includes('prometheus')) {
    return undefined;
  }
  const { host, port } = prometheusListen(env);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
}

function prometheusListen(env: NodeJS.ProcessEnv): { host: string; port: number } {
  const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || DEFAULT_PROMETHEUS_HOST;
  const text = env.OTEL_EXPORTER_PROMETHEUS_PORT?.trim();
  const port = text ? Number(text) : DEFAULT_PROMETHEUS_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(
      `OTEL_EXPORTER_PROMETHEUS_PORT must be a port number from 1 to 65535, not "${text}"`,
    );
  }
  return { host, port };
}

/**
 * Starts the OpenTelemetry SDK for a process — once, before its servers and clients are
 * created — but only when an exporter is configured (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER, e.g. `prometheus` for a scrape
 * endpoint). Otherwise it loads nothing, prints nothing and the interceptors record to
 * the API's no-op providers, so a first run or a test stays quiet and fast.
 *
 * A signal without its own exporter is left off rather than defaulted to OTLP, so
 * `OTEL_METRICS_EXPORTER=prometheus` alone does not try to ship traces to localhost.
 *
 * The resource names the service (`service.name`) and, for a center's processes, the
 * center (`vitrine.center`). The Prometheus endpoint binds to `metricsAddress(env)`
 * (loopback unless OTEL_EXPORTER_PROMETHEUS_HOST names another address) and labels every
 * series with both, so the centers' series stay apart wherever they are scraped from.
 * Instruments made with `lazyInstruments` before this call are remade on its provider.
 */
export async function startTelemetry(
  serviceName: string,
  options: TelemetryOptions = {},
): Promise<Telemetry> {
  const env = options.env ?? process.env;
  const signals = configuredSignals(env);
  if (!signals.traces && !signals.metrics) return DISABLED;
  const { NodeSDK, metrics, resources } = await import('@opentelemetry/sdk-node');
  const exporters = signals.metrics ? metricExporters(env) : [];
  const readers: InstanceType<typeof metrics.MetricReader>[] = [];
  if (exporters.includes('prometheus')) {
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    const { host, port } = prometheusListen(env);
    readers.push(
      new PrometheusExporter({
        host,
        port,
        withResourceConstantLabels: /^(service\.name|vitrine\.center)$/,
      }),
    );
  }
  if (exporters.includes('console')) {
    readers.push(
      new metrics.PeriodicExportingMetricReader({ exporter: new metrics.ConsoleMetricExporter() }),
    );
  }
  // OTLP (alone or beside the others) is built by the SDK from the OTLP variables; its
  // Prometheus exporter then reads the host from the process's environment.
  const custom = signals.metrics && !exporters.includes('otlp');
  if (!custom && exporters.includes('prometheus')) {
    process.env.OTEL_EXPORTER_PROMETHEUS_HOST ??= prometheusListen(env).host;
  }
  const sdk = new NodeSDK({
    serviceName,
    resource: resources.resourceFromAttributes({
      'service.name': serviceName,
      ...(options.center !== undefined ? { 'vitrine.center': options.center } : {}),
    }),
    ...(signals.traces ? {} : { spanProcessors: [] }),
    ...(signals.metrics ? (custom ? { metricReaders: readers } : {}) : { metricReaders: [] }),
  });
  sdk.start();
  metersChanged();
  return {
    enabled: true,
    shutdown: () => sdk.shutdown(),
  };
}
