import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type ErrorCode, isVitrineError } from '@vitrine/errors';
import { alterStoredBytes, findStoredBytes } from '@vitrine/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK_FILE_MODE, ChunkStore, type ChunkStoreOptions } from '../src/chunk-store.js';
import { releaseMemory } from '../src/release-memory.js';
import { sha256, toHex } from '../src/sha256.js';
import { deterministicBytes } from './deterministic-bytes.js';

let dir: string;
/** Stores a test opened, closed after it (closing twice is harmless). */
let opened: ChunkStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitrine-chunks-'));
});
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  opened = [];
  await rm(dir, { recursive: true, force: true });
});

/** Opens a store, to be closed after the test. */
async function openStore(at: string, options?: ChunkStoreOptions): Promise<ChunkStore> {
  const store = await ChunkStore.open(at, options);
  opened.push(store);
  return store;
}

/** Where the layout says a chunk lives. */
function chunkPath(digest: Uint8Array): string {
  const hex = toHex(digest);
  return join(dir, 'sha256', hex.slice(0, 2), hex);
}

/** Awaits `promise`, expecting a VitrineError with `code`; returns its message. */
async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isVitrineError(err) ? err.code : err).toBe(code);
  return (err as Error).message;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b);

describe.each(['packs', 'files'] as const)('ChunkStore with %s', (layout) => {
  const open = (options: ChunkStoreOptions = {}) => openStore(dir, { layout, ...options });
  it('stores, finds and reads back a chunk', async () => {
    const store = await open();
    const data = deterministicBytes('round trip', 64 * 1024);
    const { digest, stored } = await store.put(data);
    expect(stored).toBe(true);
    expect(toHex(digest)).toBe(toHex(sha256(data)));
    expect(await store.has(digest)).toBe(true);
    expect(await store.size(digest)).toBe(data.length);
    const back = await store.read(digest);
    expect(back).toBeInstanceOf(Uint8Array);
    expect(sameBytes(back, data)).toBe(true);
  });

  it('accepts a caller-computed digest and refuses one that does not match', async () => {
    const store = await open();
    const data = deterministicBytes('given digest', 3000);
    const digest = sha256(data);
    expect(await store.put(data, digest)).toEqual({ digest, stored: true });
    const other = deterministicBytes('other', 3000);
    const wrong = sha256(deterministicBytes('not other', 10));
    const message = await rejectsWith(store.put(other, wrong), 'data_loss');
    expect(message).toBe(`chunk ${toHex(wrong)} does not match its digest`);
    expect(await store.has(wrong)).toBe(false);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('reports a chunk altered on disk as data_loss', async () => {
    const store = await open();
    const data = deterministicBytes('tamper', 64 * 1024);
    const { digest } = await store.put(data);
    const tampered = data.slice();
    tampered[32 * 1024] = (tampered[32 * 1024] ?? 0) ^ 1;
    await alterStoredBytes(dir, data);
    const message = await rejectsWith(store.read(digest), 'data_loss');
    expect(message).toBe(`chunk ${toHex(digest)} failed verification`);
    // A reader that verifies the whole content itself may skip the check.
    expect(await store.read(digest, { verify: false })).toEqual(new Uint8Array(tampered));
  });

  it('reports a missing chunk as not_found', async () => {
    const store = await open();
    const digest = sha256(deterministicBytes('never stored', 10));
    expect(await store.has(digest)).toBe(false);
    expect(await rejectsWith(store.read(digest), 'not_found')).toBe(
      `chunk ${toHex(digest)} not found`,
    );
    await rejectsWith(store.size(digest), 'not_found');
    expect(await store.delete(digest)).toBe(false);
  });

  it('deletes a chunk', async () => {
    const store = await open();
    const { digest } = await store.put(deterministicBytes('delete', 100));
    expect(await store.delete(digest)).toBe(true);
    expect(await store.has(digest)).toBe(false);
    await rejectsWith(store.read(digest), 'not_found');
  });

  it('rejects a digest of the wrong length', async () => {
    const store = await open();
    await rejectsWith(store.has(new Uint8Array(31)), 'invalid_argument');
    await rejectsWith(store.read(new Uint8Array(33)), 'invalid_argument');
    await rejectsWith(store.put(new Uint8Array(1), new Uint8Array(20)), 'invalid_argument');
  });

  it('writes a chunk once when it is put concurrently', async () => {
    const store = await open();
    const data = deterministicBytes('concurrent', 64 * 1024);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.put(data)));
    expect(results.filter((r) => r.stored)).toHaveLength(1);
    const digest = sha256(data);
    expect(sameBytes(await store.read(digest), data)).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('stays consistent when two stores on one folder put the same chunk', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const data = deterministicBytes('two stores', 64 * 1024);
    const results = await Promise.all([a.put(data), b.put(data), a.put(data), b.put(data)]);
    expect(results.filter((r) => r.stored).length).toBeGreaterThanOrEqual(1);
    expect(sameBytes(await b.read(sha256(data)), data)).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('lets a correct put follow a concurrent put with a wrong digest', async () => {
    const store = await open();
    const data = deterministicBytes('wrong then right', 2000);
    const digest = sha256(data);
    const [bad, good] = await Promise.allSettled([
      store.put(deterministicBytes('impostor', 2000), digest),
      store.put(data, digest),
    ]);
    expect(bad.status === 'rejected' && isVitrineError(bad.reason, 'data_loss')).toBe(true);
    expect(good.status === 'fulfilled' && good.value.stored).toBe(true);
    expect(sameBytes(await store.read(digest), data)).toBe(true);
  });

  it('reads a batch in order, chunks stored together at once, none for a chunk not held', async () => {
    const store = await open({ durability: 'deferred' });
    const chunks = [1, 2, 3, 4].map((i) => deterministicBytes(`batch ${i}`, 30_000 + i));
    const digests = [];
    for (const c of chunks) digests.push((await store.put(c)).digest);
    const absent = sha256(deterministicBytes('not in the batch', 10));
    const order = [digests[2], absent, digests[0], digests[1], digests[3]] as Uint8Array[];
    const read = await store.readBatch(order);
    expect(read.map((r) => (r ? toHex(sha256(r)) : undefined))).toEqual(
      order.map((d) => (d === absent ? undefined : toHex(d))),
    );
    await alterStoredBytes(dir, chunks[1] as Uint8Array);
    await rejectsWith(store.readBatch(digests), 'data_loss');
    expect((await store.readBatch(digests, { verify: false })).every((r) => r)).toBe(true);
  });

  it('reads into buffers of its own, so a reader may free one read and keep another', async () => {
    const store = await open({ durability: 'deferred' });
    // Small enough that Buffer.allocUnsafe would hand out a slice of its shared pool.
    const chunks = [1, 2].map((i) => deterministicBytes(`small ${i}`, 100));
    const digests = [];
    for (const c of chunks) digests.push((await store.put(c)).digest);
    const first = await store.readBatch(digests);
    const again = await store.read(digests[0] as Uint8Array);
    const one = first[0] as Uint8Array;
    // A read's buffer holds that read's chunks and nothing else.
    expect(one.buffer.byteLength).toBeLessThanOrEqual(2 * (100 + 64));
    expect(again.buffer.byteLength).toBe(100);
    for (const buffer of new Set(first.map((c) => c?.buffer))) {
      if (buffer) releaseMemory(buffer);
    }
    expect(one.byteLength).toBe(0);
    expect(sameBytes(again, chunks[0] as Uint8Array)).toBe(true);
  });
  it('keeps what it stored, and what it deleted, when opened again', async () => {
    const store = await open({ durability: 'deferred' });
    const kept = await store.put(deterministicBytes('kept', 70_000));
    const gone = await store.put(deterministicBytes('gone', 70_000));
    await store.delete(gone.digest);
    await store.sync();
    await store.close();
    const again = await open();
    expect(await again.has(kept.digest)).toBe(true);
    expect(await again.has(gone.digest)).toBe(false);
    expect(sameBytes(await again.read(kept.digest), deterministicBytes('kept', 70_000))).toBe(true);
    // Stored again after its deletion, it is held again.
    expect((await again.put(deterministicBytes('gone', 70_000))).stored).toBe(true);
    await again.close();
    expect(await (await open()).has(gone.digest)).toBe(true);
  });
});

describe('ChunkStore with one file per chunk', () => {
  const open = (options: ChunkStoreOptions = {}) => openStore(dir, { layout: 'files', ...options });
  it('lays chunks out by digest as read-only files, leaving no temp files', async () => {
    const store = await open();
    const data = deterministicBytes('layout', 1000);
    const { digest } = await store.put(data);
    const info = await stat(chunkPath(digest));
    expect(info.mode & 0o777).toBe(CHUNK_FILE_MODE);
    expect(sameBytes(await readFile(chunkPath(digest)), data)).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'sha256'))).toEqual([toHex(digest).slice(0, 2)]);
  });

  it('does not write a chunk it already has', async () => {
    const store = await open();
    const data = deterministicBytes('dedup', 5000);
    const first = await store.put(data);
    const before = await stat(chunkPath(first.digest));
    const again = await store.put(data);
    const withDigest = await store.put(data, first.digest);
    expect([first.stored, again.stored, withDigest.stored]).toEqual([true, false, false]);
    const after = await stat(chunkPath(first.digest));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('removes stale temp files on open and keeps ones still being written', async () => {
    await open();
    const stale = join(dir, 'tmp', 'interrupted');
    const fresh = join(dir, 'tmp', 'in-progress');
    await writeFile(stale, 'half a chunk');
    await writeFile(fresh, 'a chunk being written');
    const now = Date.now();
    const longAgo = new Date(now - 10 * 60_000);
    await utimes(stale, longAgo, longAgo);
    await open({ now: () => now });
    expect(await readdir(join(dir, 'tmp'))).toEqual(['in-progress']);
    await open({ now: () => now + 61_000 });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });
});

describe('ChunkStore durability', () => {
  it.each(['packs', 'files'] as const)(
    'defers durability to sync() when asked (%s)',
    async (layout) => {
      const store = await openStore(dir, { layout, durability: 'deferred' });
      const chunks = [1, 2, 3].map((i) => deterministicBytes(`deferred ${i}`, 4096));
      for (const c of chunks) expect((await store.put(c)).stored).toBe(true);
      await Promise.all([store.sync(), store.sync()]);
      await store.sync();
      for (const c of chunks) expect(sameBytes(await store.read(sha256(c)), c)).toBe(true);
    },
  );

  it('works from a relative folder path', async () => {
    const store = await openStore(relative(process.cwd(), join(dir, 'relative')));
    const data = deterministicBytes('relative', 100);
    await store.put(data);
    expect(await findStoredBytes(join(dir, 'relative', 'packs'), data)).toHaveLength(1);
  });
});

describe('ChunkStore with pack files', () => {
  it('appends chunks to a pack of its own, as records naming them', async () => {
    const store = await openStore(dir);
    const data = deterministicBytes('packed', 10_000);
    const { digest } = await store.put(data);
    expect(await readdir(join(dir, 'packs'))).toEqual(['00000001.pack']);
    const pack = await readFile(join(dir, 'packs', '00000001.pack'));
    expect(pack.length).toBe(44 + data.length);
    expect(pack.subarray(12, 44).equals(digest)).toBe(true);
    expect(pack.subarray(44).equals(data)).toBe(true);
    await store.close();
    await rejectsWith(store.put(deterministicBytes('after close', 10)), 'failed_precondition');
    // Each instance starts a pack of its own.
    await (await openStore(dir)).put(deterministicBytes('second', 10));
    expect(await readdir(join(dir, 'packs'))).toEqual(['00000001.pack', '00000002.pack']);
  });

  it('appends chunks put at once together, each where the index says, in put order', async () => {
    const store = await openStore(dir, { durability: 'deferred' });
    // More than one write takes (256 records), so the queue is written in several.
    const chunks = Array.from({ length: 600 }, (_, i) =>
      deterministicBytes(`at once ${i}`, 500 + i),
    );
    const digests = (await Promise.all(chunks.map((c) => store.put(c)))).map((r) => r.digest);
    const deleted = digests.slice(0, 3);
    await Promise.all([
      ...deleted.map((d) => store.delete(d)),
      store.put(deterministicBytes('after the deletions', 700)),
    ]);
    await store.sync();
    const pack = await readFile(join(dir, 'packs', '00000001.pack'));
    let at = 0;
    for (const [i, chunk] of chunks.entries()) {
      expect(pack.subarray(at + 12, at + 44).equals(digests[i] as Uint8Array)).toBe(true);
      expect(pack.subarray(at + 44, at + 44 + chunk.length).equals(chunk)).toBe(true);
      at += 44 + chunk.length;
    }
    await store.close();
    const again = await openStore(dir);
    for (const [i, digest] of digests.entries()) {
      expect(await again.has(digest)).toBe(i >= deleted.length);
    }
    const read = await again.readBatch(digests.slice(deleted.length));
    expect(read.every((r, i) => r && sameBytes(r, chunks[i + deleted.length] as Uint8Array))).toBe(
      true,
    );
    await again.close();
  });

  it('refuses every put still queued when the store closes, storing none of them', async () => {
    const store = await openStore(dir);
    const chunks = Array.from({ length: 40 }, (_, i) => deterministicBytes(`queued ${i}`, 2_000));
    const puts = chunks.map((c) => store.put(c));
    const closing = store.close();
    const outcomes = await Promise.allSettled(puts);
    await closing;
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const o of refused) {
      expect(isVitrineError(o.status === 'rejected' && o.reason, 'failed_precondition')).toBe(true);
    }
    const again = await openStore(dir);
    for (const [i, outcome] of outcomes.entries()) {
      expect(await again.has(sha256(chunks[i] as Uint8Array))).toBe(outcome.status === 'fulfilled');
    }
    await again.close();
  });

  it('opens past a record a crash cut short, without it', async () => {
    const store = await openStore(dir);
    const whole = await store.put(deterministicBytes('whole', 20_000));
    const cut = await store.put(deterministicBytes('cut short', 20_000));
    await store.close();
    await truncate(join(dir, 'packs', '00000001.pack'), 44 + 20_000 + 44 + 5_000);
    const again = await openStore(dir);
    expect(await again.has(whole.digest)).toBe(true);
    expect(await again.has(cut.digest)).toBe(false);
    expect((await again.put(deterministicBytes('cut short', 20_000))).stored).toBe(true);
    expect(await again.has(cut.digest)).toBe(true);
  });

  it('opens past a pack whose record header is garbage, keeping the records before it', async () => {
    const store = await openStore(dir);
    const first = await store.put(deterministicBytes('first', 1_000));
    const second = await store.put(deterministicBytes('second', 1_000));
    await store.close();
    const path = join(dir, 'packs', '00000001.pack');
    const pack = await readFile(path);
    pack[44 + 1_000] = 0; // the second record's magic
    await writeFile(path, pack);
    const again = await openStore(dir);
    expect(await again.has(first.digest)).toBe(true);
    expect(await again.has(second.digest)).toBe(false);
  });
});

describe('ChunkStore layout', () => {
  it('names its layout in a file, and reopens with it', async () => {
    const first = await openStore(dir);
    const { digest } = await first.put(deterministicBytes('layout', 100));
    expect(await readFile(join(dir, 'layout'), 'utf8')).toBe('packs/<n>.pack\n');
    await first.close();
    const again = await openStore(dir, { layout: 'files' });
    expect(await again.has(digest)).toBe(true);
    expect(await readdir(dir)).not.toContain('sha256');
  });

  it('names the one-file-per-chunk layout, and reopens with it', async () => {
    const first = await openStore(dir, { layout: 'files' });
    const { digest } = await first.put(deterministicBytes('layout', 100));
    expect(await readFile(join(dir, 'layout'), 'utf8')).toBe('sha256/ab/<hex>\n');
    const again = await openStore(dir);
    expect(await again.has(digest)).toBe(true);
    expect(await readdir(dir)).not.toContain('packs');
  });

  it('keeps the two folder levels of a store made before the layout file', async () => {
    const data = deterministicBytes('two levels', 100);
    const hex = toHex(sha256(data));
    const nested = join(dir, 'sha256', hex.slice(0, 2), hex.slice(2, 4));
    await mkdir(nested, { recursive: true });
    await writeFile(join(nested, hex), data);
    const store = await openStore(dir);
    expect(sameBytes(await store.read(sha256(data)), data)).toBe(true);
    const other = deterministicBytes('two levels, new', 100);
    const otherHex = toHex((await store.put(other)).digest);
    const path = join(dir, 'sha256', otherHex.slice(0, 2), otherHex.slice(2, 4), otherHex);
    expect(sameBytes(await readFile(path), other)).toBe(true);
    expect(await readFile(join(dir, 'layout'), 'utf8')).toBe('sha256/ab/cd/<hex>\n');
  });

  it('refuses to open a store whose layout it does not know', async () => {
    await writeFile(join(dir, 'layout'), 'sha512/abc/<hex>\n');
    await rejectsWith(openStore(dir), 'failed_precondition');
  });
});
