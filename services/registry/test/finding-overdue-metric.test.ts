import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import { useMeterProvider } from '@vitrine/rpc';
import { TestClock, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

const DAY = 86_400_000;

/** Reads the registry's gauges when the test asks, as an exporter's reader would. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

describe.each(testBackends().slice(0, 1))('the overdue findings gauge on $name', (backend) => {
  const clock = new TestClock(new Date());
  const reader = new OnDemandReader();
  let t: TestRegistry;
  let source = '';

  beforeAll(async () => {
    useMeterProvider(new MeterProvider({ readers: [reader] }));
    t = await startTestRegistry(backend, {}, { now: clock.nowMs });
    const pushed = await t.client.pushArtifact(
      uploadOf({ kind: ArtifactKind.SOURCE, product: 'agent', version: '1' }, randomContent(2000)),
    );
    source = pushed.artifact?.id ?? '';
  });
  afterAll(async () => {
    await t.cleanup();
    await reader.shutdown();
    useMeterProvider(undefined);
  });

  /** `vitrine.registry.findings_overdue` by severity, as collected now. */
  async function overdue(): Promise<Record<string, number>> {
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === 'vitrine.registry.findings_overdue')
      .flatMap((m) => m.dataPoints as { attributes: Attributes; value: unknown }[]);
    return Object.fromEntries(points.map((p) => [String(p.attributes.severity), Number(p.value)]));
  }

  const triaged = async (severity: Severity) => {
    const { finding } = await t.client.createFinding({
      artifactIds: [source],
      title: 'x',
      severity,
    });
    await t.client.updateFinding({ id: finding?.id ?? '', status: FindingStatus.TRIAGED });
    return finding?.id ?? '';
  };

  it('counts open findings past their due date per severity, and stops counting a closed one', async () => {
    expect(await overdue()).toEqual({ info: 0, low: 0, medium: 0, high: 0, critical: 0 });
    const critical = await triaged(Severity.CRITICAL);
    await triaged(Severity.CRITICAL);
    await triaged(Severity.HIGH);
    await triaged(Severity.INFO);
    clock.advance(8 * DAY);
    expect(await overdue()).toEqual({ info: 0, low: 0, medium: 0, high: 0, critical: 2 });
    clock.advance(23 * DAY);
    expect(await overdue()).toMatchObject({ high: 1, critical: 2, info: 0 });
    await t.client.updateFinding({ id: critical, status: FindingStatus.REJECTED });
    expect(await overdue()).toMatchObject({ high: 1, critical: 1 });
  });
});
