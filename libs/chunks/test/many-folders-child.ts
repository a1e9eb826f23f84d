/**
 * Stores chunks spread over `count` leaf folders in deferred directory-sync mode, then syncs
 * them all: run by many-folders.test.ts under a low open-file limit.
 */
import { ChunkStore } from '../src/chunk-store.js';
import { deterministicBytes } from './deterministic-bytes.js';

const [dir, count] = [process.argv[2] ?? '', Number(process.argv[3] ?? 0)];
const store = await ChunkStore.open(dir, { layout: 'files', durability: 'deferred' });
for (let i = 0; i < count; i++) await store.put(deterministicBytes(`folder ${i}`, 64));
await store.sync();
