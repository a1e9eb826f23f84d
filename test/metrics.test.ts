import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deterministicBytes, freePortBlock, type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PORT_SPAN, type DevFederation, startDev, vitrineJson } from './cli-process.js';

/** The artifact pushed: several chunks. */
const SIZE = 2 * 1024 * 1024 + 5;

/** One scrape of a Prometheus endpoint: its text exposition. */
async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of the first sample of `name` whose labels include every one of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}) {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

/** Scrapes `url` until `ready` holds of its text (up to 90 s); returns that text. */
async function scrapeUntil(url: string, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 90_000;
  let text = await scrape(url);
  while (!ready(text)) {
    if (Date.now() > deadline) throw new Error(`metrics at ${url} never showed it:\n${text}`);
    await new Promise((r) => setTimeout(r, 250));
    text = await scrape(url);
  }
  return text;
}

describe('metrics of a running federation, scraped from each process', () => {
  let home: TempDir;
  let dev: DevFederation;
  let base = 0;

  beforeAll(async () => {
    home = await tempDir('vitrine-metrics-');
    base = await freePortBlock(DEV_PORT_SPAN);
    dev = await startDev(home.path, base, { OTEL_METRICS_EXPORTER: 'prometheus' });
  });
  afterAll(async () => {
    if (dev.child.exitCode === null) await dev.stop();
    await home.cleanup();
  });

  it('gives every process its own loopback endpoint, listed in the ready line', () => {
    expect(dev.ready.metrics).toEqual({
      access: `http://127.0.0.1:${base + 2}/metrics`,
      asia: `http://127.0.0.1:${base + 12}/metrics`,
      europe: `http://127.0.0.1:${base + 22}/metrics`,
      us: `http://127.0.0.1:${base + 32}/metrics`,
    });
  });

  it('exports replication, access and log metrics, each series naming its center', async () => {
    const metrics = dev.ready.metrics ?? {};
    const file = join(home.path, 'agent.tar');
    await writeFile(file, deterministicBytes('metrics-artifact', SIZE));
    await vitrineJson([
      'artifact',
      'push',
      file,
      '--data',
      home.path,
      '--center',
      'europe',
      '--kind',
      'source',
      '--product',
      'agent',
      '--version',
      '1',
      '--residency',
      'EU,US',
    ]);
    const fromEurope = { peer: 'europe', vitrine_center: 'us' };
    // us fetches the artifact's chunks from europe, and catches up with europe's log.
    const us = await scrapeUntil(
      metrics.us ?? '',
      (text) =>
        (sample(text, 'vitrine_sync_bytes_fetched_total', fromEurope) ?? 0) >= SIZE &&
        sample(text, 'vitrine_sync_chunks_pending', { vitrine_center: 'us' }) === 0 &&
        sample(text, 'vitrine_sync_peer_lag_events', fromEurope) === 0,
    );
    expect(sample(us, 'vitrine_sync_chunks_fetched_total', fromEurope)).toBeGreaterThan(1);
    expect(sample(us, 'vitrine_sync_events_applied_total', fromEurope)).toBeGreaterThan(0);
    expect(sample(us, 'vitrine_sync_peer_lag_seconds', fromEurope)).toBe(0);
    expect(sample(us, 'vitrine_sync_chunks_failed_total', fromEurope) ?? 0).toBe(0);
    expect(us).toContain('service_name="vitrine-center"');

    // europe took the push (an operator's call, allowed) and logged and signed its events.
    const europe = await scrapeUntil(
      metrics.europe ?? '',
      (text) =>
        (sample(text, 'vitrine_registry_checkpoint_size', { vitrine_center: 'europe' }) ?? 0) > 0,
    );
    const own = { vitrine_center: 'europe' };
    expect(
      sample(europe, 'vitrine_registry_access_checks_total', { ...own, outcome: 'allowed' }),
    ).toBeGreaterThan(0);
    const size = sample(europe, 'vitrine_registry_log_size', own) ?? 0;
    expect(size).toBeGreaterThan(0);
    expect(sample(europe, 'vitrine_registry_checkpoint_size', own)).toBeLessThanOrEqual(size);
    expect(sample(europe, 'vitrine_registry_checkpoint_age_seconds', own)).toBeGreaterThanOrEqual(
      0,
    );

    // The access service is no center: its series name the service alone.
    const access = await scrape(metrics.access ?? '');
    expect(access).toContain('service_name="vitrine-access"');
    expect(access).not.toContain('vitrine_center=');
    // Its log holds at least the key rotation of its first start.
    expect(sample(access, 'vitrine_access_log_size')).toBeGreaterThan(0);
    expect(sample(access, 'vitrine_access_checkpoint_size')).toBeGreaterThan(0);
  }, 180_000);
});
