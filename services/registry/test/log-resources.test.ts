import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import {
  decodeEntryBundle,
  hashChildren,
  hashLeaf,
  noteKey,
  openNote,
  parseCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

/** MTH of RFC 9162 §2.1.1 over leaf hashes, from the definition. */
function rootOf(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0] as Uint8Array;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return hashChildren(rootOf(hashes.slice(0, k)), rootOf(hashes.slice(k)));
}

describe.each(testBackends())('a center serves its log as tlog-tiles on $name', (backend) => {
  let t: TestRegistry;
  const get = (path: string, init?: RequestInit) => fetch(`${t.registry.url}/log/${path}`, init);

  async function checkpoint() {
    const res = await get('checkpoint');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const key = noteKey('vitrine-test/europe', t.registry.publicKey);
    const opened = await openNote(await res.text(), [key]);
    return parseCheckpoint(opened.text);
  }

  let artifactId = '';
  async function createFindings(count: number) {
    for (let i = 0; i < count; i++) {
      const finding = { artifactIds: [artifactId], title: `finding ${i}`, severity: Severity.LOW };
      await t.client.createFinding(finding);
    }
  }

  beforeAll(async () => {
    t = await startTestRegistry(backend, {
      federation: 'vitrine-test',
      log: { checkpointIntervalMs: 20 },
    });
  });
  afterAll(() => t.cleanup());

  it('signs a checkpoint of the empty log at start, then one for each size it grows to', async () => {
    expect(await checkpoint()).toMatchObject({ origin: 'vitrine-test/europe', size: 0 });
    const upload = uploadOf(
      { kind: ArtifactKind.SOURCE, product: 'agent', version: '1' },
      randomContent(5_000),
    );
    artifactId = (await t.client.pushArtifact(upload)).artifact?.id ?? '';
    await createFindings(2);
    let seen = await checkpoint();
    while (seen.size < 3) seen = await checkpoint();
    expect(seen.size).toBe(3);
  });

  it('serves entries and hash tiles that rebuild the checkpoint root', async () => {
    await createFindings(4);
    let cp = await checkpoint();
    while (cp.size < 7) cp = await checkpoint();
    const tiles = await get(`tile/0/000.p/${cp.size}`);
    expect(tiles.status).toBe(200);
    expect(tiles.headers.get('cache-control')).toContain('immutable');
    const hashes = new Uint8Array(await tiles.arrayBuffer());
    const leafHashes = Array.from({ length: cp.size }, (_, i) =>
      hashes.subarray(32 * i, 32 * i + 32),
    );
    expect(rootOf(leafHashes)).toEqual(cp.root);
    const bundle = await get(`tile/entries/000.p/${cp.size}`);
    const entries = decodeEntryBundle(new Uint8Array(await bundle.arrayBuffer()));
    expect(entries.map(hashLeaf)).toEqual(leafHashes);
  });

  it('answers 404 for tiles beyond the log or not canonical, and 405 for other methods', async () => {
    const cp = await checkpoint();
    const cases = [
      `tile/0/000.p/${cp.size + 1}`,
      'tile/0/000',
      'tile/1/000.p/1',
      'tile/0/0',
      'tile/0/000.p/0',
      'tile/64/000',
      'nothing',
    ];
    for (const path of cases) expect((await get(path)).status, path).toBe(404);
    expect((await get('checkpoint', { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await get('checkpoint', { method: 'HEAD' })).status).toBe(200);
  });

  it('proves inclusion and consistency over LogService, without a credential', async () => {
    const log = createGrpcClient(LogService, t.registry.url);
    const latest = await log.getCheckpoint({});
    const key = noteKey('vitrine-test/europe', t.registry.publicKey);
    const cp = parseCheckpoint((await openNote(latest.checkpoint, [key])).text);
    expect([latest.treeSize, latest.rootHash]).toEqual([BigInt(cp.size), cp.root]);
    for (let seq = 1; seq <= cp.size; seq++) {
      const res = await log.getInclusionProof({ leaf: { case: 'seq', value: BigInt(seq) } });
      expect([res.leafIndex, res.treeSize, res.checkpoint]).toEqual([
        BigInt(seq - 1),
        BigInt(cp.size),
        latest.checkpoint,
      ]);
      verifyInclusion(hashLeaf(res.leaf), seq - 1, cp.size, res.proof, cp.root);
    }
    const older = await log.getInclusionProof({
      leaf: { case: 'leafIndex', value: 0n },
      treeSize: 2n,
    });
    expect(older.checkpoint).toBe('');
    for (let old = 1; old <= cp.size; old++) {
      const res = await log.getConsistencyProof({ oldSize: BigInt(old) });
      const oldRoot = await log.getInclusionProof({
        leaf: { case: 'leafIndex', value: 0n },
        treeSize: BigInt(old),
      });
      expect(oldRoot.treeSize).toBe(BigInt(old));
      const tiles = new Uint8Array(await (await get(`tile/0/000.p/${cp.size}`)).arrayBuffer());
      const hashes = Array.from({ length: old }, (_, i) => tiles.subarray(32 * i, 32 * i + 32));
      verifyConsistency(old, cp.size, res.proof, rootOf(hashes), cp.root);
    }
  });

  it('refuses proofs beyond the signed log or badly asked with INVALID_ARGUMENT', async () => {
    const log = createGrpcClient(LogService, t.registry.url);
    const size = (await log.getCheckpoint({})).treeSize;
    const refusals = [
      () => log.getInclusionProof({ leaf: { case: 'leafIndex', value: size } }),
      () => log.getInclusionProof({ leaf: { case: 'seq', value: 0n } }),
      () => log.getInclusionProof({}),
      () => log.getInclusionProof({ leaf: { case: 'seq', value: 1n }, treeSize: size + 1n }),
      () => log.getConsistencyProof({ oldSize: 0n }),
      () => log.getConsistencyProof({ oldSize: size + 1n }),
      () => log.getConsistencyProof({ oldSize: 1n, newSize: size + 5n }),
    ];
    for (const call of refusals) expect(await grpcCodeOf(call())).toBe('INVALID_ARGUMENT');
  });

  it('resumes a peer for operators only', async () => {
    const anonymous = createGrpcClient(LogService, t.registry.url);
    expect(await grpcCodeOf(anonymous.resumeOrigin({ origin: 'asia' }))).toBe('UNAUTHENTICATED');
    const operator = createGrpcClient(LogService, t.registry.url, {
      interceptors: [t.trust.operatorAuth('europe')],
    });
    expect(await grpcCodeOf(operator.resumeOrigin({ origin: '' }))).toBe('INVALID_ARGUMENT');
    expect(await grpcCodeOf(operator.resumeOrigin({ origin: 'asia' }))).toBe('FAILED_PRECONDITION');
    expect((await anonymous.listEvidence({})).evidence).toEqual([]);
  });
});
