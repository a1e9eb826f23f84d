import { create } from '@bufbuild/protobuf';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import {
  CreateFindingRequestSchema,
  PushArtifactRequestSchema,
  UpdateFindingRequestSchema,
} from '@vitrine/proto/registry';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFinding } from '../src/queries/findings.js';
import { randomContent, uploadOf } from './harness.js';
import { openTestCenter, sync, type TestCenter } from './test-center.js';

describe.each(testBackends())('CVSS scores and severity reasons replicate on $name', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  let eu: TestCenter;
  let us: TestCenter;
  let source = '';

  beforeAll(async () => {
    const keys = new Map<string, Uint8Array>();
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    cleanups.push(eu.cleanup);
    us = await openTestCenter(backend, 'us', 'US', keys);
    cleanups.push(us.cleanup);
    async function* requests() {
      const meta = { kind: ArtifactKind.SOURCE, product: 'agent', version: '1.0', residency: [] };
      for await (const m of uploadOf(meta, randomContent(4000))) {
        yield create(PushArtifactRequestSchema, m);
      }
    }
    source = (await eu.artifacts.push('op', requests(), new AbortController().signal)).artifact.id;
  });
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('carries score and reason to a peer, each winning or losing with its field', async () => {
    const f = await eu.findings.create(
      'alice',
      create(CreateFindingRequestSchema, {
        artifactIds: [source],
        title: 'Scored at one center',
        severity: Severity.LOW,
        cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
        severityReason: 'behind the maintenance network',
      }),
    );
    expect(await sync(eu, us)).toBe(2);
    expect(await findFinding(us.database.db, f.id)).toMatchObject({
      cvss_score: 9.8,
      severity: 'low',
      severity_reason: 'behind the maintenance network',
    });

    // Concurrently: europe rescores (the severity follows the new band, the reason goes)
    // while the US center sets a severity of its own with its reason. The later write of
    // severity wins with its reason; the score stays with its vector.
    await eu.findings.update(
      'alice',
      create(UpdateFindingRequestSchema, {
        id: f.id,
        cvssVector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L',
      }),
    );
    await us.findings.update(
      'bob',
      create(UpdateFindingRequestSchema, {
        id: f.id,
        severity: Severity.MEDIUM,
        severityReason: 'needs local access here',
      }),
    );
    await sync(eu, us);
    await sync(us, eu);
    const [here, there] = await Promise.all([
      findFinding(eu.database.db, f.id),
      findFinding(us.database.db, f.id),
    ]);
    expect(there).toEqual(here);
    expect(here).toMatchObject({
      cvss_vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L',
      cvss_score: 7.8,
    });
    const severityWinner = [here?.severity, here?.severity_reason];
    expect([
      ['high', ''],
      ['medium', 'needs local access here'],
    ]).toContainEqual(severityWinner);
    expect(await eu.replica.stateDigest()).toBe(await us.replica.stateDigest());
  });
});
