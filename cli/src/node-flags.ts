/**
 * Node flags of vitrine's service processes. Its own entry point in the built command
 * (cli/dist/node-flags.mjs), so `bin/vitrine.js` can read them before it loads anything
 * else: `vitrine serve` restarts itself with them when it was not started with them.
 */
import { RELEASE_MEMORY_NODE_FLAGS } from '@vitrine/chunks';

/**
 * Node flags every service runs with (docs/decisions/0003-service-v8-flags.md has the
 * figures, from bench/replication.ts):
 * - A young generation of 4 MiB semispaces (V8's default is 16 MiB) holds less garbage
 *   between collections: lower peaks at the same speed.
 * - The old generation may grow to twice its size after a full collection before the next
 *   starts. V8 otherwise picks that factor from how fast it has been collecting, and on a
 *   busy machine picked very different factors for centers doing the same work: one ran a
 *   full collection every few MB it promoted, another held garbage until buffer memory had
 *   grown 64 MB. A fixed factor lowers the peaks and the time.
 * - On Node 20, the flag that lets a receiving center free each frame once its chunks are
 *   written (`releaseMemory`).
 */
export const SERVICE_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=100',
  ...RELEASE_MEMORY_NODE_FLAGS,
];

/**
 * Node flags `vitrine dev` adds for its services, which trade speed for memory
 * (docs/decisions/0007-dev-v8-flags.md, from bench/dev-footprint.ts):
 * - `--liftoff-only`: V8 compiles WebAssembly once, with its baseline compiler, and never
 *   recompiles hot functions with its optimising one. An idle center on PGlite holds much
 *   less, and PGlite is no slower; libsodium's Ed25519 (signing and verifying events) is
 *   slower.
 * - `--optimize-for-size`: V8 grows its heap and optimises JavaScript less eagerly; a little
 *   less memory per idle service.
 * Benchmarks and `vitrine serve` keep V8's defaults.
 */
export const DEV_SERVICE_NODE_FLAGS: readonly string[] = ['--liftoff-only', '--optimize-for-size'];

/**
 * The Node arguments to restart a service process with when it lacks some of
 * {@link SERVICE_NODE_FLAGS}, or undefined when it has them all. The flags it was started
 * with come after vitrine's, so an operator's own value of one (say a larger
 * `--max-semi-space-size`) still wins.
 */
export function serviceRestartArgs(execArgv: readonly string[]): string[] | undefined {
  if (SERVICE_NODE_FLAGS.every((flag) => execArgv.includes(flag))) return undefined;
  return [...SERVICE_NODE_FLAGS, ...execArgv];
}
