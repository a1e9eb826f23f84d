import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Code, ConnectError } from '@connectrpc/connect';
import { context, propagation, trace } from '@opentelemetry/api';
import { metrics, NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { RegistryService } from '@vitrine/proto/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configuredSignals,
  createGrpcClient,
  metricsAddress,
  type RunningServer,
  useMeterProvider,
} from '../src/index.js';
import { startEchoServer } from './echo-server.js';
import { encodedPull } from './encoded-pull.js';

const CHILD = new URL('./telemetry-child.ts', import.meta.url).pathname;
const LIST = 'vitrine.registry.v1.RegistryService/ListArtifacts';

/** The environment without any OTEL_* variable, plus `extra`. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')),
  );
  return { ...env, VITRINE_LOG_LEVEL: '', ...extra };
}

async function runChild(extra: Record<string, string>) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD], {
    env: envWith(extra),
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe('startTelemetry', () => {
  it('prints nothing on stdout or stderr when no exporter is configured', async () => {
    const { stdout, stderr } = await runChild({});
    expect(stdout).toBe('');
    expect(stderr).toBe('');
  });

  it('exports spans of both sides when an exporter is configured', async () => {
    const { stdout } = await runChild({ OTEL_TRACES_EXPORTER: 'console' });
    expect(stdout).toContain(`name: '${LIST}'`);
    expect(stdout).toContain(`name: 'grpc.health.v1.Health/Check'`);
    expect(stdout).toContain("'service.name': 'telemetry-child'");
  });

  it('decides from the exporter variables alone', () => {
    expect(configuredSignals({})).toEqual({ traces: false, metrics: false });
    expect(configuredSignals({ OTEL_TRACES_EXPORTER: 'none' })).toEqual({
      traces: false,
      metrics: false,
    });
    expect(configuredSignals({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      traces: true,
      metrics: true,
    });
    expect(configuredSignals({ OTEL_METRICS_EXPORTER: 'prometheus' })).toEqual({
      traces: false,
      metrics: true,
    });
    expect(configuredSignals({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({
      traces: true,
      metrics: false,
    });
  });
});

describe('metricsAddress', () => {
  it('is loopback port 9464 unless configured, and only with a Prometheus exporter', () => {
    expect(metricsAddress({})).toBeUndefined();
    expect(metricsAddress({ OTEL_METRICS_EXPORTER: 'otlp' })).toBeUndefined();
    expect(metricsAddress({ OTEL_METRICS_EXPORTER: 'prometheus' })).toBe(
      'http://127.0.0.1:9464/metrics',
    );
    expect(
      metricsAddress({
        OTEL_METRICS_EXPORTER: 'otlp,prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '::1',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9500',
      }),
    ).toBe('http://[::1]:9500/metrics');
  });

  it('refuses a port that is not one, naming the variable', () => {
    expect(() =>
      metricsAddress({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: 'x' }),
    ).toThrow('OTEL_EXPORTER_PROMETHEUS_PORT must be a port number from 1 to 65535, not "x"');
  });
});

/** Collects metrics on demand. */
class TestReader extends metrics.MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('telemetry interceptors', () => {
  const spans = new tracing.InMemorySpanExporter();
  const processor = new tracing.SimpleSpanProcessor(spans);
  const reader = new TestReader();
  const sdk = new NodeSDK({
    serviceName: 'interceptor-test',
    autoDetectResources: false,
    spanProcessors: [processor],
    metricReaders: [reader],
  });
  let server: RunningServer;
  beforeAll(async () => {
    // Instruments made before, by another test file in this worker, are remade on first
    // use from the SDK's provider.
    useMeterProvider(undefined);
    sdk.start();
    server = await startEchoServer();
  });
  afterAll(async () => {
    await server.close();
    await sdk.shutdown();
    // The SDK registered itself as the process's providers; a later test file in this
    // worker registers its own.
    for (const api of [trace, context, propagation]) api.disable();
    useMeterProvider(undefined);
  });

  /** Finished spans of one name and kind (1 server, 2 client), once exports are done. */
  const byName = async (name: string, kind: number) => {
    await processor.forceFlush();
    return spans.getFinishedSpans().filter((s) => s.name === name && s.kind === kind);
  };

  it('opens a client and a server span per call, joined by traceparent', async () => {
    spans.reset();
    await createGrpcClient(RegistryService, server.url).listArtifacts({ product: 'p' });
    const [client] = await byName(LIST, 2);
    const [serverSpan] = await byName(LIST, 1);
    expect(client && serverSpan).toBeTruthy();
    if (!client || !serverSpan) return;
    expect(serverSpan.spanContext().traceId).toBe(client.spanContext().traceId);
    expect(serverSpan.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    expect(serverSpan.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'vitrine.registry.v1.RegistryService',
      'rpc.method': 'ListArtifacts',
      'rpc.grpc.status_code': 0,
    });
  });

  it('records the status code; only server faults mark a server span as an error', async () => {
    spans.reset();
    const client = createGrpcClient(RegistryService, server.url);
    for (const product of ['fail:not_found', 'fail:unexpected']) {
      await client.listArtifacts({ product }).catch((err: unknown) => ConnectError.from(err));
    }
    const serverSpans = await byName(LIST, 1);
    expect(serverSpans.map((s) => [s.attributes['rpc.grpc.status_code'], s.status.code])).toEqual([
      [Code.NotFound, 0],
      [Code.Internal, 2],
    ]);
    expect(
      (await byName(LIST, 2)).map((s) => [s.attributes['rpc.grpc.status_code'], s.status.code]),
    ).toEqual([
      [Code.NotFound, 2],
      [Code.Internal, 2],
    ]);
  });

  it('ends a streaming span when the stream ends, with its final status', async () => {
    spans.reset();
    const client = createGrpcClient(RegistryService, server.url);
    for await (const _ of client.pullArtifact({ id: 'size:100' }));
    await (async () => {
      for await (const _ of client.pullArtifact({ id: 'fail:data_loss' }));
    })().catch(() => undefined);
    const codes = (await byName('vitrine.registry.v1.RegistryService/PullArtifact', 1)).map(
      (s) => s.attributes['rpc.grpc.status_code'],
    );
    expect(codes).toEqual([0, Code.DataLoss]);
  });

  it('observes an encoded stream served directly the same way, joined to the caller', async () => {
    spans.reset();
    const direct = await startEchoServer({
      encodedStreams: [encodedPull({ yielded: 0, closed: false })],
    });
    try {
      const client = createGrpcClient(RegistryService, direct.url);
      for await (const _ of client.pullArtifact({ id: 'size:100' }));
      await (async () => {
        for await (const _ of client.pullArtifact({ id: 'fail:data_loss' }));
      })().catch(() => undefined);
    } finally {
      await direct.close();
    }
    const name = 'vitrine.registry.v1.RegistryService/PullArtifact';
    const served = await byName(name, 1);
    const called = await byName(name, 2);
    expect(served.map((s) => [s.attributes['rpc.grpc.status_code'], s.status.code])).toEqual([
      [0, 0],
      [Code.DataLoss, 2],
    ]);
    expect(served.map((s) => s.parentSpanContext?.spanId)).toEqual(
      called.map((s) => s.spanContext().spanId),
    );
  });

  it('counts calls and their duration by method and outcome', async () => {
    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const calls = all.find((m) => m.descriptor.name === 'rpc.server.calls');
    const duration = all.find((m) => m.descriptor.name === 'rpc.server.duration');
    expect(duration?.dataPoints.length).toBeGreaterThan(0);
    const notFound = calls?.dataPoints.find(
      (p) =>
        p.attributes['rpc.method'] === 'ListArtifacts' &&
        p.attributes['rpc.outcome'] === 'NOT_FOUND',
    );
    expect(notFound?.value).toBe(1);
    const clientCalls = all.find((m) => m.descriptor.name === 'rpc.client.calls');
    expect(clientCalls?.dataPoints.length).toBeGreaterThan(0);
  });
});
