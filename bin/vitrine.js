#!/usr/bin/env node
// The vitrine command: runs vitrine's packages compiled into one module (see bundle.js).
//
// Chunk writes end with an fsync each, and libuv runs file operations on its thread pool
// (4 threads by default), so a larger pool keeps more of them in flight. It must be sized
// before the pool starts, hence before anything else is imported.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { freshBundle } = await import('./bundle.js');
const { main } = await import(await freshBundle());
process.exitCode = await main(process.argv);
