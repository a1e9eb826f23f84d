import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CliError } from './cli-error.js';
import { SERVICE_NODE_FLAGS } from './node-flags.js';
import type { ReadyLine } from './serve-command.js';

/** The `vitrine` executable, so child services run exactly what the user runs. */
const VITRINE_BIN = fileURLToPath(new URL('../../bin/vitrine.js', import.meta.url));

/** How long a service may take to start (first start creates its embedded database). */
const READY_TIMEOUT_MS = 180_000;
/** How long a service gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

/** How a child service ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One `vitrine serve …` child of `vitrine dev`: started, awaited until it prints its ready
 * line, its logs (stderr) appended to a file, stopped with SIGTERM.
 */
export class ServiceProcess {
  private constructor(
    readonly name: string,
    readonly logFile: string,
    readonly ready: ReadyLine,
    readonly exited: Promise<Exit>,
    private readonly child: ChildProcess,
  ) {}

  /**
   * Starts `vitrine serve <service> --config <file> --json` and waits until it serves.
   * `nodeArgs` go to Node itself (say `--cpu-prof`, which NODE_OPTIONS may not carry).
   */
  static async start(
    name: string,
    service: string,
    configFile: string,
    logFile: string,
    env: Readonly<Record<string, string | undefined>>,
    nodeArgs: readonly string[] = [],
  ): Promise<ServiceProcess> {
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        ...SERVICE_NODE_FLAGS,
        ...nodeArgs,
        VITRINE_BIN,
        'serve',
        service,
        '--config',
        configFile,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env } },
    );
    child.stderr?.pipe(log);
    const exited = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const ready = await readyLine(name, child, exited, logFile, log);
    return new ServiceProcess(name, logFile, ready, exited, child);
  }

  /** The id of the process that runs the service (no wrapper in between), for /proc figures. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the service to stop (SIGTERM), killing it if it has not within the grace period. */
  async stop(): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    }
    return this.exited;
  }
}

/** The child's first stdout line: its ready line, or the error it failed to start with. */
async function readyLine(
  name: string,
  child: ChildProcess,
  exited: Promise<Exit>,
  logFile: string,
  log: NodeJS.WritableStream,
): Promise<ReadyLine> {
  const stdout = child.stdout;
  if (!stdout) throw new Error('child has no stdout');
  const lines = createInterface({ input: stdout });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new CliError(
          'UNAVAILABLE',
          `${name} did not start within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`,
        ),
      );
    }, READY_TIMEOUT_MS);
  });
  // The ready line is one line; a failure to start may be a pretty-printed error document.
  // Every line goes to the log as well, and lines before the document begins (Node's own
  // diagnostics, say with --trace-gc) are not part of it.
  lines.on('line', (line) => log.write(`${line}\n`));
  const first = new Promise<string>((resolve) => {
    let text = '';
    const onLine = (line: string) => {
      if (text === '' && !line.startsWith('{')) return;
      text += line;
      try {
        JSON.parse(text);
      } catch {
        return;
      }
      lines.off('line', onLine);
      resolve(text);
    };
    lines.on('line', onLine);
  });
  const died = exited.then((exit): never => {
    throw new CliError(
      'UNAVAILABLE',
      `${name} exited before it was ready (${describeExit(exit)}); see ${logFile}`,
    );
  });
  // Once it is ready (or gone) the start-up deadline no longer applies: a service that
  // serves for longer than READY_TIMEOUT_MS must not be killed for it.
  const line = await Promise.race([first, died, timeout]).finally(() => clearTimeout(timer));
  const parsed = JSON.parse(line) as ReadyLine | { error: { code: string; message: string } };
  if ('error' in parsed) {
    throw new CliError('UNAVAILABLE', `${name} failed to start: ${parsed.error.message}`);
  }
  return parsed;
}

/** "exit code 1" or "signal SIGKILL". */
export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
