import { create, fromBinary } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { ArtifactKind, ManifestSchema } from '@vitrine/proto/artifact';
import type { SignedEvent } from '@vitrine/proto/event';
import { PushArtifactRequestSchema } from '@vitrine/proto/registry';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findArtifact } from '../src/queries/artifacts.js';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';
import { openTestCenter, type TestCenter } from './test-center.js';

const codeOf = grpcCodeOf;

const meta = (version: string, extra: Record<string, unknown> = {}) => ({
  kind: ArtifactKind.UPDATE,
  product: 'router-os',
  version,
  ...extra,
});

describe.each(testBackends())('residency of superseding uploads on $name', (backend) => {
  let t: TestRegistry;
  /** router-os 4.2, allowed in EU and US only. */
  let euUs = '';
  const push = (version: string, extra: Record<string, unknown> = {}) =>
    t.client.pushArtifact(uploadOf(meta(version, extra), randomContent(30_000)));
  const versions = async () =>
    (await t.client.listArtifacts({ product: 'router-os' })).artifacts.map((a) => a.version);

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    euUs = (await push('4.2', { residency: ['US', 'EU'] })).artifact?.id ?? '';
  });
  afterAll(() => t.cleanup());

  it('gives a superseding upload without residency the residency of the artifact it supersedes', async () => {
    const content = randomContent(40_000);
    const upload = () =>
      t.client.pushArtifact(uploadOf(meta('4.2.1', { supersedes: euUs }), content));
    const first = await upload();
    expect(first.created).toBe(true);
    expect(first.artifact).toMatchObject({
      supersedes: euUs,
      residency: ['EU', 'US'],
      residencyWidened: false,
    });
    const again = await upload();
    expect(again).toMatchObject({ created: false, artifact: { id: first.artifact?.id } });
    const got = await t.client.getArtifact({ id: first.artifact?.id ?? '' });
    expect(got.artifact?.residency).toEqual(['EU', 'US']);
  });

  it('lets a superseding upload narrow its residency', async () => {
    const narrowed = await push('4.2.2', { supersedes: euUs, residency: ['EU'] });
    expect(narrowed.artifact).toMatchObject({ residency: ['EU'], residencyWidened: false });
    // The version after it inherits the narrower residency.
    const next = await push('4.2.3', { supersedes: narrowed.artifact?.id });
    expect(next.artifact).toMatchObject({ residency: ['EU'], residencyWidened: false });
  });

  it('refuses to widen residency without widen_residency with FAILED_PRECONDITION, recording nothing', async () => {
    const narrowed = (await push('4.3', { supersedes: euUs, residency: ['EU'] })).artifact?.id;
    const refusals = [
      { supersedes: euUs, residency: ['APAC', 'EU'] },
      { supersedes: narrowed, residency: ['EU', 'US'] },
      { supersedes: euUs, residency: ['APAC', 'EU', 'US'], widenResidency: false },
    ];
    for (const [i, extra] of refusals.entries()) {
      const err = await push(`4.3.${i + 1}`, extra).catch((e) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect(await codeOf(Promise.reject(err))).toBe('FAILED_PRECONDITION');
      expect((err as ConnectError).rawMessage).toMatch(/may be held only in .*--widen-residency/);
    }
    expect((await versions()).filter((v) => v.startsWith('4.3.'))).toEqual([]);
  });

  it('widens residency with widen_residency, marking the artifact widened', async () => {
    const wider = await push('4.4', {
      supersedes: euUs,
      residency: ['APAC', 'EU'],
      widenResidency: true,
    });
    expect(wider.artifact).toMatchObject({ residency: ['APAC', 'EU'], residencyWidened: true });
    // Without residency, widen_residency allows every jurisdiction.
    const anywhere = await push('4.5', { supersedes: euUs, widenResidency: true });
    expect(anywhere.artifact).toMatchObject({ residency: [], residencyWidened: true });
    // Allowed but not needed: a narrower residency is not marked widened.
    const same = await push('4.6', { supersedes: euUs, residency: ['US'], widenResidency: true });
    expect(same.artifact).toMatchObject({ residency: ['US'], residencyWidened: false });
  });

  it('treats any residency as narrowing an artifact that may be held anywhere', async () => {
    const open = (await push('5.0')).artifact?.id;
    const inherited = await push('5.0.1', { supersedes: open });
    expect(inherited.artifact).toMatchObject({ residency: [], residencyWidened: false });
    const narrowed = await push('5.0.2', { supersedes: open, residency: ['APAC'] });
    expect(narrowed.artifact).toMatchObject({ residency: ['APAC'], residencyWidened: false });
  });

  it('refuses widen_residency without supersedes with INVALID_ARGUMENT', async () => {
    const err = await push('6.0', { residency: ['EU'], widenResidency: true }).catch((e) =>
      ConnectError.from(e),
    );
    expect(await codeOf(Promise.reject(err))).toBe('INVALID_ARGUMENT');
    expect((err as ConnectError).rawMessage).toContain('metadata.widen_residency');
  });

  it('refuses to supersede an artifact this center does not hold with NOT_FOUND', async () => {
    const err = await push('7.0', { supersedes: 'b'.repeat(64) }).catch((e) =>
      ConnectError.from(e),
    );
    expect(await codeOf(Promise.reject(err))).toBe('NOT_FOUND');
    expect((err as ConnectError).rawMessage).toContain(`superseded artifact ${'b'.repeat(64)}`);
    expect(await versions()).not.toContain('7.0');
  });
});

describe.each(testBackends())('a widened residency at other centers on $name', (backend) => {
  const keys = new Map<string, Uint8Array>();
  let eu: TestCenter;
  let us: TestCenter;

  beforeAll(async () => {
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    us = await openTestCenter(backend, 'us', 'US', keys);
  });
  afterAll(async () => {
    await eu?.cleanup();
    await us?.cleanup();
  });

  it('travels in the signed manifest, so a replica shows it too', async () => {
    const euOnly = await pushAt(eu, '1.0', { residency: ['EU'] });
    const widened = await pushAt(eu, '1.1', { supersedes: euOnly, widenResidency: true });
    const events = await ownEvents(eu, us);
    const report = await us.replica.ingestAll(events);
    expect(report.refusal).toBeUndefined();
    const there = await findArtifact(us.database.db, widened);
    expect(there).toMatchObject({ residency: [], residency_widened: true, supersedes: euOnly });
    const manifest = fromBinary(ManifestSchema, there?.manifest ?? new Uint8Array());
    expect(manifest).toMatchObject({ residency: [], residencyWidened: true, supersedes: euOnly });
    // The EU-only version never reached the US center; the widened one did.
    expect(await findArtifact(us.database.db, euOnly)).toBeUndefined();
  });
});

async function* requests(version: string, extra: Record<string, unknown>) {
  for await (const m of uploadOf(meta(version, extra), randomContent(5000))) {
    yield create(PushArtifactRequestSchema, m);
  }
}

async function pushAt(c: TestCenter, version: string, extra: Record<string, unknown>) {
  const signal = new AbortController().signal;
  return (await c.artifacts.push('operator', requests(version, extra), signal)).artifact.id;
}

/** Every event of `from`'s own log that `to` lacks, as `from` would send them. */
async function ownEvents(from: TestCenter, to: TestCenter): Promise<SignedEvent[]> {
  const vector = await to.replica.versionVector();
  const head = (await from.replica.versionVector()).get(from.id) ?? 0n;
  const lacked = Number(head - (vector.get(from.id) ?? 0n));
  const stop = new AbortController();
  const events: SignedEvent[] = [];
  for await (const event of from.replica.feed(to, vector, stop.signal)) {
    events.push(event);
    if (events.length === lacked) stop.abort();
  }
  return events;
}
