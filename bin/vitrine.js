#!/usr/bin/env node
// The vitrine command. It runs the JavaScript `npm run build` (scripts/build.mjs, run by
// `npm install`) made in cli/dist and never compiles anything itself:
// - `vitrine serve …` runs cli/dist/serve.mjs, first restarting itself with the Node flags
//   services need (cli/src/node-flags.ts) when it was started without them;
// - `vitrine dev …` runs cli/dist/dev.mjs, a supervisor that loads no service code;
// - every other command runs cli/dist/vitrine.mjs.
//
// Chunk writes end with an fsync each, and libuv runs file operations on its thread pool
// (4 threads by default), so a larger pool keeps more of them in flight. It must be sized
// before the pool starts, hence before anything else is imported.
process.env.UV_THREADPOOL_SIZE ??= '16';
// Output piped into a reader that stops early (`vitrine artifact ls | head`) ends the
// command quietly, as other command-line tools do, instead of with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}
const { spawn } = await import('node:child_process');
const { existsSync } = await import('node:fs');

/** The command named: the first argument after the program's own option (`--profile NAME`). */
const args = process.argv.slice(2);
const command =
  args[0] === '--profile' ? args[2] : args[0]?.startsWith('--profile=') ? args[1] : args[0];
const entry = command === 'serve' ? 'serve' : command === 'dev' ? 'dev' : 'vitrine';
const url = new URL(`../cli/dist/${entry}.mjs`, import.meta.url);

if (!existsSync(url)) {
  process.stderr.write(
    'error: vitrine is not built (cli/dist is missing): run `npm run build` in the vitrine folder, or `npm install`, which builds it\n',
  );
  process.exitCode = 2;
} else {
  const restart =
    entry === 'serve'
      ? (
          await import(new URL('../cli/dist/node-flags.mjs', import.meta.url).href)
        ).serviceRestartArgs(process.execArgv)
      : undefined;
  if (restart) await restartWith(restart);
  else {
    const { main } = await import(url.href);
    process.exitCode = await main(process.argv);
  }
}

/**
 * Runs this command again in a Node started with `nodeArgs`. Where Node can replace the
 * process (process.execve, Node 22.15 and later) it does, keeping the process id a
 * supervisor knows; otherwise the command runs as a child whose exit this process repeats.
 * The child has a process group of its own, so a Ctrl-C reaches it once, forwarded with
 * every SIGINT, SIGTERM and SIGHUP sent to this process.
 */
async function restartWith(nodeArgs) {
  const args = [...nodeArgs, ...process.argv.slice(1)];
  if (typeof process.execve === 'function') {
    process.execve(process.execPath, [process.execPath, ...args], process.env);
  }
  const child = spawn(process.execPath, args, { stdio: 'inherit', detached: true });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  const [code, signal] = await new Promise((resolve) =>
    child.once('exit', (...exit) => resolve(exit)),
  );
  for (const s of signals) process.off(s, forward);
  if (signal) process.kill(process.pid, signal);
  else process.exitCode = code ?? 1;
}
