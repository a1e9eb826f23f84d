/**
 * Stores chunks spread over `count` leaf folders in deferred directory-sync mode, then syncs
 * them all: run by many-folders.test.ts under a low open-file limit.
 */

// Straight from its file: the test helpers' index loads far more modules than the 128
// files this process may hold open.
import { deterministicBytes } from '../../testing/src/deterministic-bytes.js';
import { ChunkStore } from '../src/chunk-store.js';

const [dir, count] = [process.argv[2] ?? '', Number(process.argv[3] ?? 0)];
const store = await ChunkStore.open(dir, { layout: 'files', durability: 'deferred' });
for (let i = 0; i < count; i++) await store.put(deterministicBytes(`folder ${i}`, 64));
await store.sync();
