import { create } from '@bufbuild/protobuf';
import { sha256, toHex } from '@vitrine/crypto';
import { ArtifactKind } from '@vitrine/proto/artifact';
import type { SignedEvent } from '@vitrine/proto/event';
import { PushArtifactRequestSchema } from '@vitrine/proto/registry';
import { alterStoredBytes, deterministicBytes, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactContent } from '../src/artifact-content.js';
import { ChunkReplica } from '../src/chunk-replica/index.js';
import { artifactChunkPage, findArtifact } from '../src/queries/artifacts.js';
import { randomContent, uploadOf } from './harness.js';
import { openTestCenter, type TestCenter } from './test-center.js';

describe.each(testBackends())('chunk replication on $name', (backend) => {
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

  /**
   * Hands `replica` the chunks named, read from europe's store, all at once as a fetch with
   * many in flight does; resolves once every one is recorded.
   */
  async function receiveAll(replica: ChunkReplica, digests: readonly Uint8Array[]) {
    const receipts = await Promise.all(
      digests.map(async (digest) => replica.receive(digest, await eu.store.read(digest))),
    );
    await replica.recordNow();
    await Promise.all(receipts.map((r) => r.recorded));
  }

  /** Publishes `size` random bytes at europe and gives us its events; the artifact id. */
  async function publishAtEurope(version: string, size: number, residency: string[] = []) {
    return publishContentAtEurope({ version, residency }, randomContent(size));
  }

  /** Publishes `content` at europe and gives us its events; the artifact id. */
  async function publishContentAtEurope(
    metadata: { version: string; residency?: string[]; supersedes?: string },
    content: Uint8Array,
  ) {
    async function* requests() {
      const meta = { kind: ArtifactKind.UPDATE, product: 'agent', residency: [], ...metadata };
      for await (const m of uploadOf(meta, content)) {
        yield create(PushArtifactRequestSchema, m);
      }
    }
    const pushed = await eu.artifacts.push('operator', requests(), new AbortController().signal);
    const events: SignedEvent[] = [];
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    for await (const e of eu.replica.feed(us, await us.replica.versionVector(), stop.signal)) {
      events.push(e);
    }
    const report = await us.replica.ingestAll(events);
    expect(report.refusal).toBeUndefined();
    return pushed.artifact.id;
  }

  it('finds the chunks of an artifact as soon as its event arrives, records them received together, and completes it verified', async () => {
    expect(await us.chunks.missing(1000)).toEqual([]);
    const id = await publishAtEurope('1.0', 3_000_000);
    const lacking = await us.chunks.missing(1000);
    expect(lacking.length).toBeGreaterThan(10);
    await receiveAll(us.chunks, lacking);
    expect(await us.chunks.missing(1000)).toEqual([]);
    const row = await findArtifact(us.database.db, id);
    expect(row?.bytes_held).toBe(row?.size);
    expect(row?.state).toBe('replicating');
    expect(await us.chunks.complete()).toEqual([id]);
    expect((await findArtifact(us.database.db, id))?.state).toBe('available');
    expect(await us.chunks.complete()).toEqual([]);
  });

  it('lists missing chunks in the order of the content, older artifacts first, each once', async () => {
    // The second artifact repeats one of the first's chunks, and one chunk twice.
    const first = randomContent(1_500_000);
    const repeat = first.subarray(0, 400_000);
    const second = Buffer.concat([randomContent(300_000), repeat, repeat]);
    const a = await publishContentAtEurope({ version: '1.5' }, first);
    const b = await publishContentAtEurope({ version: '1.6' }, second);
    const inOrder = async (id: string) =>
      (
        await us.database.db
          .selectFrom('artifact_chunks')
          .select('digest')
          .where('artifact_id', '=', id)
          .orderBy('idx')
          .execute()
      ).map((r) => toHex(r.digest));
    const expected = [...new Set([...(await inOrder(a)), ...(await inOrder(b))])];
    expect((await us.chunks.missing(1000)).map(toHex)).toEqual(expected);
    expect((await us.chunks.missing(3)).map(toHex)).toEqual(expected.slice(0, 3));
    await receiveAll(us.chunks, await us.chunks.missing(1000));
    expect((await us.chunks.complete()).sort()).toEqual([a, b].sort());
  });

  it('says when a chunk is written and when recorded; records what was written when asked, and a chunk alone unasked', async () => {
    await publishAtEurope('1.1', 1_000_000);
    const lacking = await us.chunks.missing(1000);
    expect(lacking.length).toBeGreaterThan(4);
    const receipts = await Promise.all(
      lacking.map(async (digest) => us.chunks.receive(digest, await eu.store.read(digest))),
    );
    await Promise.all(receipts.map((r) => r.written));
    for (const digest of lacking) expect(await us.store.has(digest)).toBe(true);
    await us.chunks.recordNow();
    const recorded = await us.database.db
      .selectFrom('chunks')
      .select('digest')
      .where('digest', 'in', lacking)
      .execute();
    expect(recorded).toHaveLength(lacking.length);
    // Below the chunker's 16 KiB minimum, so exactly one chunk whatever the random bytes.
    await publishAtEurope('1.2', 10_000);
    const missing = await us.chunks.missing(1000);
    expect(missing).toHaveLength(1);
    const [alone] = missing;
    if (!alone) throw new Error('no chunk missing');
    await us.chunks.receive(alone, await eu.store.read(alone)).recorded;
    expect(await us.chunks.missing(1000)).toEqual([]);
  });

  it('counts a chunk received twice at once only once', async () => {
    const first = await publishAtEurope('2.0', 200_000);
    const [digest] = await us.chunks.missing(1);
    const data = await eu.store.read(digest as Uint8Array);
    await Promise.all([
      us.chunks.receive(digest as Uint8Array, data).recorded,
      us.chunks.receive(digest as Uint8Array, data).recorded,
    ]);
    expect((await findArtifact(us.database.db, first))?.bytes_held).toBe(BigInt(data.length));
  });

  it('recounts and completes an artifact whose count lags once no chunk is missing', async () => {
    const id = await publishAtEurope('3.0', 300_000);
    await receiveAll(us.chunks, await us.chunks.missing(1000));
    await us.database.db
      .updateTable('artifacts')
      .set({ bytes_held: 0n })
      .where('id', '=', id)
      .execute();
    expect(await us.chunks.complete()).toContain(id);
    const row = await findArtifact(us.database.db, id);
    expect(row?.state).toBe('available');
    expect(row?.bytes_held).toBe(row?.size);
  });

  it('refuses a chunk that does not match its digest with DATA_LOSS, recording nothing', async () => {
    await publishAtEurope('4.0', 100_000);
    const [digest] = await us.chunks.missing(1);
    const forged = new Uint8Array((await eu.store.read(digest as Uint8Array)).length);
    const refused = await us.chunks.receive(digest as Uint8Array, forged).recorded.then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );
    expect(refused).toBe('data_loss');
    expect(await us.chunks.missing(1000)).toContainEqual(digest);
    expect(await us.store.has(digest as Uint8Array)).toBe(false);
  });

  it('after a start, records chunks stored but not recorded instead of fetching them again', async () => {
    await publishAtEurope('4.1', 400_000);
    const [stored, torn, ...rest] = await us.chunks.missing(1000);
    // A transfer cut off between storing a chunk and recording it, and one whose write a
    // crash left with the wrong bytes.
    await us.store.put(await eu.store.read(stored as Uint8Array), stored);
    const tornBytes = await eu.store.read(torn as Uint8Array);
    await us.store.put(tornBytes, torn);
    await alterStoredBytes(us.store.location, tornBytes);
    const restarted = new ChunkReplica(us.database.db, us.store);
    const lacking = await restarted.missing(1000);
    expect(lacking).not.toContainEqual(stored);
    expect(lacking).toContainEqual(torn);
    expect(lacking).toHaveLength(rest.length + 1);
    expect(await us.store.has(torn as Uint8Array)).toBe(false);
    const recorded = await us.database.db
      .selectFrom('chunks')
      .select('digest')
      .where('digest', '=', stored as Uint8Array)
      .execute();
    expect(recorded).toHaveLength(1);
    await receiveAll(restarted, lacking);
    expect(await restarted.missing(1000)).toEqual([]);
  });

  it('keeps an artifact replicating when a chunk changed on disk after it was received', async () => {
    const id = await publishAtEurope('4.2', 300_000);
    const lacking = await us.chunks.missing(1000);
    await receiveAll(us.chunks, lacking);
    const restore = await alterStoredBytes(
      us.store.location,
      await eu.store.read(lacking[0] as Uint8Array),
    );
    const failures: unknown[] = [];
    expect(await us.chunks.complete((_, err) => failures.push(err))).not.toContain(id);
    expect(failures).toEqual([expect.objectContaining({ code: 'data_loss' })]);
    expect((await findArtifact(us.database.db, id))?.state).toBe('replicating');
    await restore();
    expect(await us.chunks.complete()).toEqual([id]);
  });

  it('serves chunks in the order asked, only to a peer whose jurisdiction may hold them', async () => {
    await publishAtEurope('5.0', 100_000);
    await publishAtEurope('5.0-eu', 100_000, ['EU']);
    const firstOf = async (version: string) =>
      (
        await eu.database.db
          .selectFrom('artifact_chunks as ac')
          .innerJoin('artifacts as a', 'a.id', 'ac.artifact_id')
          .select('ac.digest')
          .where('a.version', '=', version)
          .executeTakeFirstOrThrow()
      ).digest;
    const euOnly = await firstOf('5.0-eu');
    const open = await firstOf('5.0');
    const unknown = new Uint8Array(32).fill(7);
    const served = [];
    for await (const chunk of eu.chunks.readManyFor({ id: 'us', jurisdiction: 'US' }, [
      unknown,
      open,
    ])) {
      served.push(chunk);
    }
    expect(served.map((c) => c.digest)).toEqual([unknown, open]);
    expect(served[0]?.data).toBeUndefined();
    expect(served[1]?.data && sha256(served[1].data)).toEqual(open);
    const refused: unknown[] = [];
    const code = await (async () => {
      for await (const chunk of eu.chunks.readManyFor({ id: 'us', jurisdiction: 'US' }, [
        open,
        euOnly,
      ])) {
        refused.push(chunk);
      }
    })().then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );
    expect(code).toBe('permission_denied');
    expect(refused).toEqual([]);
    const toEu = [];
    for await (const chunk of eu.chunks.readManyFor({ id: 'eu2', jurisdiction: 'EU' }, [euOnly])) {
      toEu.push(chunk);
    }
    expect(toEu[0]?.data && sha256(toEu[0].data)).toEqual(euOnly);
  });

  it('frees the read chunks were served from once every chunk of it is done', async () => {
    const id = await publishAtEurope('5.1', 1_000_000);
    const rows = await eu.database.db
      .selectFrom('artifact_chunks')
      .select('digest')
      .where('artifact_id', '=', id)
      .orderBy('idx')
      .limit(3)
      .execute();
    const served = [];
    for await (const chunk of eu.chunks.readManyFor(
      { id: 'us', jurisdiction: 'US' },
      rows.map((r) => r.digest),
    )) {
      served.push(chunk);
    }
    const sizes = served.map((c) => c.data?.byteLength ?? 0);
    expect(sizes.every((n) => n > 0)).toBe(true);
    served[0]?.done();
    served[1]?.done();
    // The third still holds the read all three came in.
    expect(served.map((c) => c.data && sha256(c.data))).toEqual(rows.map((r) => r.digest));
    served[2]?.done();
    expect(served.map((c) => c.data?.byteLength)).toEqual([0, 0, 0]);
  });

  it("takes a new version's changed chunks as patches of the chunks they replaced", async () => {
    const v1 = deterministicBytes('patched version', 2_000_000);
    const first = await publishContentAtEurope({ version: '6.0' }, v1);
    await receiveAll(us.chunks, await us.chunks.missing(1000));
    expect(await us.chunks.complete()).toContain(first);
    // 10 KiB inserted in the middle: one or two chunks change.
    const edit = deterministicBytes('the edit', 10 * 1024);
    const v2 = new Uint8Array(
      Buffer.concat([v1.subarray(0, 1_000_000), edit, v1.subarray(1_000_000)]),
    );
    const second = await publishContentAtEurope({ version: '6.1', supersedes: first }, v2);
    const lacking = await us.chunks.missing(1000);
    expect(lacking.length).toBeGreaterThan(0);
    const bases = await us.chunks.basesFor(lacking);
    expect(bases.size).toBe(lacking.length);
    const baseOf = (d: Uint8Array) => bases.get(Buffer.from(d).toString('hex'));
    const asked = lacking.map(baseOf);
    const served = [];
    for await (const chunk of eu.chunks.readManyFor(
      { id: 'us', jurisdiction: 'US' },
      lacking,
      asked,
    )) {
      served.push(chunk);
    }
    const sent = served.reduce(
      (n, c) => n + (c.patch ? c.patch.middle.length : (c.data?.length ?? 0)),
      0,
    );
    const whole = served.reduce((n, c) => n + (c.data?.length ?? 0), 0);
    // Only the inserted bytes travel: every other byte of the changed chunks is found in
    // the run of chunks they replaced.
    expect(sent).toBe(edit.length);
    expect(whole).toBeGreaterThan(4 * edit.length);
    // A patch altered on the way rebuilds a different chunk: refused, nothing recorded.
    const [patched] = served.filter((c) => c.patch && c.patch.middle.length > 0);
    if (!patched?.patch) throw new Error('no chunk was sent as a patch');
    const middle = patched.patch.middle.slice();
    middle[0] = (middle[0] ?? 0) ^ 1;
    const code = await us.chunks
      .receivePatch(patched.digest, baseOf(patched.digest) ?? { run: [], startGap: 0, endGap: 0 }, {
        ...patched.patch,
        middle,
      })
      .recorded.then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
    expect(code).toBe('data_loss');
    expect(await us.store.has(patched.digest)).toBe(false);
    // A chunk a patch failed to rebuild is asked for whole from then on.
    expect((await us.chunks.basesFor([patched.digest])).size).toBe(0);
    for (const chunk of served) {
      const base = baseOf(chunk.digest);
      if (chunk.patch && base)
        await us.chunks.receivePatch(chunk.digest, base, chunk.patch).written;
      else if (chunk.data) await us.chunks.receive(chunk.digest, chunk.data).written;
    }
    await us.chunks.recordNow();
    expect(await us.chunks.complete()).toEqual([second]);
  });

  it('reads an artifact back in order, whole, and refuses it with a chunk gone (not_found, naming it) or altered (data_loss)', async () => {
    const content = randomContent(1_500_000);
    const id = await publishContentAtEurope({ version: 'read-back' }, content);
    const row = await findArtifact(eu.database.db, id);
    if (!row) throw new Error('artifact not found at europe');
    const read = async () => {
      const parts: Uint8Array[] = [];
      for await (const part of artifactContent(eu.database.db, eu.store, row)) parts.push(part);
      return Buffer.concat(parts);
    };
    expect((await read()).equals(content)).toBe(true);
    const chunks = await artifactChunkPage(eu.database.db, id, 0, 1000);
    expect(chunks.length).toBeGreaterThan(8); // more than one batch is read

    const altered = chunks[2]?.digest ?? new Uint8Array();
    const restore = await alterStoredBytes(
      eu.store.location,
      (await eu.store.read(altered)).slice(),
    );
    const refusedAltered = await read().catch((e: { code?: string }) => e.code);
    expect(refusedAltered).toBe('data_loss');
    await restore();

    const gone = chunks[9]?.digest ?? new Uint8Array();
    await eu.store.delete(gone);
    const refusedGone = await read().catch((e: { code?: string; message?: string }) => e);
    expect(refusedGone).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining(toHex(gone)),
    });
  });
});
