import { create } from '@bufbuild/protobuf';
import { type Client, ConnectError } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import {
  CreateFindingRequestSchema,
  PushArtifactRequestSchema,
  RegistryService,
  UpdateFindingRequestSchema,
} from '@vitrine/proto/registry';
import { codeName, createGrpcClient } from '@vitrine/rpc';
import { testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingLinks } from '../src/queries/finding-links.js';
import { findFinding } from '../src/queries/findings.js';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';
import { openTestCenter, sync, type TestCenter } from './test-center.js';

/** Every center applies what every other holds, twice round (events forwarded once). */
async function converge(centers: readonly TestCenter[]): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const from of centers) {
      for (const to of centers) if (from !== to) await sync(from, to);
    }
  }
}

/** A finding as one center shows it: its link, status, effective status and duplicates. */
async function shown(center: TestCenter, id: string) {
  const row = await findFinding(center.database.db, id);
  if (!row) return undefined;
  const links = await findingLinks(center.database.db, [row]);
  return {
    status: row.status,
    duplicateOf: row.duplicate_of,
    effective: links.get(id)?.effectiveStatus,
    duplicates: links.get(id)?.duplicates,
  };
}

describe.each(testBackends())('duplicates across centers on $name', (backend) => {
  const centers: TestCenter[] = [];
  let asia: TestCenter;
  let eu: TestCenter;
  let us: TestCenter;
  let source = '';
  let fix = '';

  beforeAll(async () => {
    const keys = new Map<string, Uint8Array>();
    asia = await openTestCenter(backend, 'asia', 'APAC', keys);
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    us = await openTestCenter(backend, 'us', 'US', keys);
    centers.push(asia, eu, us);
    const push = async (kind: ArtifactKind, version: string) => {
      async function* requests() {
        const meta = { kind, product: 'router-os', version, residency: [] };
        for await (const m of uploadOf(meta, randomContent(3000))) {
          yield create(PushArtifactRequestSchema, m);
        }
      }
      return (await eu.artifacts.push('op', requests(), new AbortController().signal)).artifact.id;
    };
    source = await push(ArtifactKind.SOURCE, '4.2');
    fix = await push(ArtifactKind.UPDATE, '4.2.1');
    await converge(centers);
  });
  afterAll(async () => {
    for (const center of centers) await center.cleanup();
  });

  const file = (center: TestCenter, title: string) =>
    center.findings.create(
      'partner:p',
      create(CreateFindingRequestSchema, { artifactIds: [source], title, severity: Severity.HIGH }),
    );
  const update = (center: TestCenter, fields: Record<string, unknown>) =>
    center.findings.update('operator:o', create(UpdateFindingRequestSchema, fields));

  it('a link made at a third center replicates, and the duplicate follows its original', async () => {
    const original = await file(eu, 'Hard-coded credential');
    const duplicate = await file(asia, 'Fixed password in updater');
    await converge(centers);
    await update(us, { id: duplicate.id, duplicateOf: original.id });
    await converge(centers);
    for (const center of centers) {
      expect(await shown(center, duplicate.id)).toEqual({
        status: 'duplicate',
        duplicateOf: original.id,
        effective: 'new',
        duplicates: [],
      });
      expect(await shown(center, original.id)).toMatchObject({ duplicates: [duplicate.id] });
    }
    // The original moves on at its own center; the duplicate shows its status everywhere.
    for (const status of [FindingStatus.TRIAGED, FindingStatus.IN_PROGRESS]) {
      await update(eu, { id: original.id, status });
    }
    await update(eu, { id: original.id, status: FindingStatus.FIXED, fixArtifactId: fix });
    await converge(centers);
    for (const center of centers) {
      expect(await shown(center, duplicate.id)).toMatchObject({
        status: 'duplicate',
        effective: 'fixed',
      });
    }
    const digests = await Promise.all(centers.map((c) => c.replica.stateDigest()));
    expect(new Set(digests).size).toBe(1);
  });

  it('a cycle made by concurrent links at two centers shows both as plain duplicates', async () => {
    const x = await file(asia, 'Open debug port');
    const y = await file(eu, 'Debug port reachable');
    await converge(centers);
    // Each center sees no cycle when it links: the other link has not arrived yet.
    await update(asia, { id: x.id, duplicateOf: y.id });
    await update(eu, { id: y.id, duplicateOf: x.id });
    await converge(centers);
    for (const center of centers) {
      expect(await shown(center, x.id)).toMatchObject({
        duplicateOf: y.id,
        effective: 'duplicate',
      });
      expect(await shown(center, y.id)).toMatchObject({
        duplicateOf: x.id,
        effective: 'duplicate',
      });
    }
  });
});

/** The gRPC code and message a call was refused with. */
async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: codeName(e.code), message: e.rawMessage };
  }
  return { code: 'OK', message: '' };
}

describe.each(testBackends())('linking duplicates over RPC on $name', (backend) => {
  let t: TestRegistry;
  let partner: Client<typeof RegistryService>;
  const ids = { a: '', b: '', c: '', rejected: '', fixed: '', hidden: '', hiddenDuplicate: '' };

  beforeAll(async () => {
    t = await startTestRegistry(backend);
    const push = async (kind: ArtifactKind, product: string) => {
      const metadata = { kind, product, version: '1', residency: [] };
      const { artifact } = await t.client.pushArtifact(uploadOf(metadata, randomContent(2_000)));
      return artifact?.id ?? '';
    };
    const source = await push(ArtifactKind.SOURCE, 'router-os');
    const update = await push(ArtifactKind.UPDATE, 'router-os');
    const hidden = await push(ArtifactKind.SOURCE, 'agent');
    const create = async (artifactId: string, title: string) =>
      (await t.client.createFinding({ artifactIds: [artifactId], title, severity: Severity.LOW }))
        .finding?.id ?? '';
    for (const key of ['a', 'b', 'c', 'rejected', 'fixed'] as const) {
      ids[key] = await create(source, key);
    }
    ids.hidden = await create(hidden, 'hidden');
    ids.hiddenDuplicate = await create(hidden, 'hidden duplicate');
    await t.client.updateFinding({ id: ids.rejected, status: FindingStatus.REJECTED });
    for (const status of [FindingStatus.TRIAGED, FindingStatus.IN_PROGRESS]) {
      await t.client.updateFinding({ id: ids.fixed, status });
    }
    await t.client.updateFinding({
      id: ids.fixed,
      status: FindingStatus.FIXED,
      fixArtifactId: update,
    });
    const caller = await t.trust.partner({
      partner: 'acme',
      jurisdiction: 'EU',
      audience: ['europe'],
      scope: { products: ['router-os'], actions: ['read', 'review'] },
    });
    partner = createGrpcClient(RegistryService, t.registry.url, {
      interceptors: [callAuthInterceptor(() => caller, 'europe')],
    });
  });
  afterAll(() => t.cleanup());

  it('links a duplicate and shows the link both ways, within the reader scope', async () => {
    const linked = await t.client.updateFinding({ id: ids.b, duplicateOf: ids.a });
    expect(linked.finding).toMatchObject({
      status: FindingStatus.DUPLICATE,
      duplicateOf: ids.a,
      effectiveStatus: FindingStatus.NEW,
    });
    // A finding the partner cannot read duplicates one it can: the operator sees it, the
    // partner does not.
    await t.client.updateFinding({ id: ids.hiddenDuplicate, duplicateOf: ids.a });
    const operator = await t.client.getFinding({ id: ids.a });
    expect(operator.finding?.duplicates).toEqual([ids.b, ids.hiddenDuplicate].sort());
    const seen = await partner.getFinding({ id: ids.a });
    expect(seen.finding?.duplicates).toEqual([ids.b]);
    const history = (await t.client.getFinding({ id: ids.b })).history;
    const last = history.at(-1)?.change;
    expect(last?.case === 'updated' && last.value).toMatchObject({
      duplicateOf: ids.a,
      status: FindingStatus.DUPLICATE,
    });
  });

  it('refuses a self-link, a cycle, an unknown or hidden original and a final finding', async () => {
    expect(await refusal(t.client.updateFinding({ id: ids.c, duplicateOf: ids.c }))).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'invalid request: duplicate_of: a finding cannot be a duplicate of itself',
    });
    expect(
      await refusal(
        t.client.updateFinding({ id: ids.c, duplicateOf: ids.a, status: FindingStatus.REJECTED }),
      ),
    ).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'invalid request: status: must be duplicate (or left out) with duplicate_of',
    });
    // b is a duplicate of a: a cannot become a duplicate of b.
    expect(await refusal(t.client.updateFinding({ id: ids.a, duplicateOf: ids.b }))).toEqual({
      code: 'FAILED_PRECONDITION',
      message: `finding ${ids.b} is, through its links, a duplicate of ${ids.a}: linking ${ids.a} to it would close a cycle`,
    });
    expect(
      await refusal(t.client.updateFinding({ id: ids.c, duplicateOf: 'europe-999999' })),
    ).toEqual({ code: 'NOT_FOUND', message: 'finding europe-999999 not found' });
    const hidden = await refusal(partner.updateFinding({ id: ids.c, duplicateOf: ids.hidden }));
    expect(hidden).toEqual({ code: 'NOT_FOUND', message: `finding ${ids.hidden} not found` });
    expect(await refusal(t.client.updateFinding({ id: ids.rejected, duplicateOf: ids.a }))).toEqual(
      {
        code: 'FAILED_PRECONDITION',
        message: `finding ${ids.rejected} is rejected, which is final: it cannot be marked a duplicate`,
      },
    );
    expect(await refusal(t.client.updateFinding({ id: ids.b, duplicateOf: ids.c }))).toEqual({
      code: 'FAILED_PRECONDITION',
      message: `finding ${ids.b} is duplicate, which is final: it cannot be marked a duplicate`,
    });
    expect(await refusal(t.client.updateFinding({ id: ids.fixed, duplicateOf: ids.a }))).toEqual({
      code: 'FAILED_PRECONDITION',
      message: 'a finding cannot move from fixed to duplicate (from fixed: verified, in_progress)',
    });
    // Nothing refused was written.
    expect((await t.client.getFinding({ id: ids.c })).finding).toMatchObject({
      status: FindingStatus.NEW,
      duplicateOf: '',
    });
  });
});
