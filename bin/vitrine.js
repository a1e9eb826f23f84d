#!/usr/bin/env node
// The vitrine command. vitrine's packages are TypeScript, loaded through tsx.
//
// Chunk writes end with an fsync each, and libuv runs file operations on its thread pool
// (4 threads by default), so a larger pool keeps more of them in flight. It must be sized
// before the pool starts, hence before anything else is imported.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/src/index.ts');
process.exitCode = await main(process.argv);
