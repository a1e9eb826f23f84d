import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVitrineError } from '@vitrine/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChunkStore } from '../src/chunk-store.js';
import { readAhead } from '../src/read-ahead.js';
import { sha256, toHex } from '../src/sha256.js';
import { deterministicBytes } from './deterministic-bytes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitrine-chunks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storeChunks(store: ChunkStore, count: number): Promise<Uint8Array[]> {
  const digests: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    digests.push((await store.put(deterministicBytes(`chunk ${i}`, 1000 + i))).digest);
  }
  return digests;
}

describe('ChunkStore.readMany', () => {
  it('yields verified chunks in order', async () => {
    const store = await ChunkStore.open(dir, { durability: 'deferred' });
    const digests = await storeChunks(store, 20);
    const read: string[] = [];
    for await (const chunk of store.readMany(digests)) read.push(toHex(sha256(chunk)));
    expect(read).toEqual(digests.map(toHex));
  });

  it('accepts an async source and stops at the first missing chunk', async () => {
    const store = await ChunkStore.open(dir, { durability: 'deferred' });
    const digests = await storeChunks(store, 6);
    const missing = sha256(deterministicBytes('missing', 1));
    async function* source() {
      yield* digests.slice(0, 3);
      yield missing;
      yield* digests.slice(3);
    }
    let count = 0;
    const err = await (async () => {
      for await (const _ of store.readMany(source())) count++;
    })().catch((e: unknown) => e);
    expect(count).toBe(3);
    expect(isVitrineError(err, 'not_found')).toBe(true);
  });

  it('rejects a concurrency below one', async () => {
    const store = await ChunkStore.open(dir);
    const err = await store
      .readMany([], { concurrency: 0 })
      .next()
      .catch((e: unknown) => e);
    expect(isVitrineError(err, 'invalid_argument')).toBe(true);
  });
});

describe('readAhead', () => {
  it('keeps at most `limit` loads in flight and yields in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const load = async (n: number) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      // later items finish first, so order must come from readAhead, not from timing
      await new Promise((resolve) => setTimeout(resolve, (10 - (n % 10)) * 2));
      inFlight--;
      return n * 2;
    };
    const out: number[] = [];
    for await (const v of readAhead([...Array(30).keys()], load, 4)) out.push(v);
    expect(out).toEqual([...Array(30).keys()].map((n) => n * 2));
    expect(peak).toBe(4);
  });

  it('closes the source and swallows abandoned failures when the consumer stops', async () => {
    let closed = false;
    function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const load = async (n: number) => {
      if (n > 0) throw new Error(`load ${n} failed`);
      return n;
    };
    for await (const v of readAhead(source(), load, 4)) {
      expect(v).toBe(0);
      break;
    }
    expect(closed).toBe(true);
  });
});
