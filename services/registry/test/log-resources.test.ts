import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { testBackends } from '@vitrine/testing';
import {
  decodeEntryBundle,
  hashChildren,
  hashLeaf,
  noteKey,
  openNote,
  parseCheckpoint,
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
});
