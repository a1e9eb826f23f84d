import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The real `vitrine` executable, run the way a user runs it. */
export const VITRINE = fileURLToPath(new URL('../bin/vitrine.js', import.meta.url));

/** Result of one `vitrine` command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The command line that runs `vitrine ARGS…`: in this process's network namespace, or with
 * `netns` inside that named network namespace (`ip netns exec`), as on another host.
 */
export function vitrineCommand(args: string[], netns?: string): [string, string[]] {
  const command: [string, string[]] = [process.execPath, [VITRINE, ...args]];
  return netns === undefined
    ? command
    : ['ip', ['netns', 'exec', netns, command[0], ...command[1]]];
}

/** Runs `vitrine ARGS…` to completion (inside network namespace `netns` if given). */
export function vitrine(
  args: string[],
  env: Record<string, string> = {},
  netns?: string,
): Promise<CommandResult> {
  const [file, argv] = vitrineCommand(args, netns);
  return new Promise((resolve) => {
    execFile(
      file,
      argv,
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 90_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Runs `vitrine ARGS… --json` (inside network namespace `netns` if given) and parses its
 * output, failing loudly on a non-zero exit.
 */
export async function vitrineJson<T = Record<string, unknown>>(
  args: string[],
  netns?: string,
): Promise<T> {
  const result = await vitrine([...args, '--json'], {}, netns);
  if (result.code !== 0) {
    throw new Error(
      `vitrine ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}

/** A `vitrine dev --json` federation running as a child process. */
export interface DevFederation {
  child: ChildProcess;
  ready: {
    home: string;
    access: string;
    centers: {
      id: string;
      jurisdiction: string;
      registry: string;
      sync: string;
      publicKey: string;
    }[];
    /** Each process's Prometheus endpoint, by name, when metrics are exported that way. */
    metrics?: Record<string, string>;
  };
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Ports `vitrine dev --base-port N` listens on lie in N … N+39 (access, then 10 per center). */
export const DEV_PORT_SPAN = 40;

/**
 * Starts `vitrine dev --data HOME --base-port PORT --json` (with `env` added to this
 * process's environment) and waits for its ready line.
 */
export async function startDev(
  home: string,
  basePort: number,
  env: Record<string, string> = {},
): Promise<DevFederation> {
  const child = spawn(
    process.execPath,
    [VITRINE, 'dev', '--data', home, '--base-port', String(basePort), '--json'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`vitrine dev exited with ${code} before it was ready`);
    }),
  ]);
  const ready = JSON.parse(line) as DevFederation['ready'] & { ready: boolean };
  if (!ready.ready) throw new Error(`vitrine dev did not start: ${line}`);
  return {
    child,
    ready,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
