import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { RELEASE_MEMORY_NODE_FLAGS } from './libs/chunks/src/release-memory.js';
import SlowFilesFirst from './test/slow-files-first.js';

export default defineConfig({
  test: {
    include: [
      'libs/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'cli/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each worker process runs file after file with the modules it has loaded: loading
    // vitrine's graph (protobuf, Connect, PGlite, libsodium, the AWS SDK) afresh for each of
    // 160 files took 354 s summed over a run, against 38 s once per worker. Files do not lean
    // on module state: none mocks modules; those that set globals (env, the meter provider)
    // restore them.
    isolate: false,
    // Vitest's default of one worker less than the CPUs leaves one file at a time on two
    // cores, while most files spend their time waiting on services, sockets and fsync.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The processes tests start run the build, brought up to date with the sources;
    // embedded databases of a run are copies of its template cluster, not an initdb each.
    globalSetup: ['test/build-setup.ts', 'libs/testing/src/global-setup.ts'],
    // The slowest files start first, so that none of them is left to run on alone at the end.
    sequence: { sequencer: SlowFilesFirst },
    // Tests run vitrine's code as its services run: able to free buffers early.
    execArgv: [...RELEASE_MEMORY_NODE_FLAGS],
  },
});
