import type { Writable } from 'node:stream';

/**
 * Everything a command touches outside its arguments. Commands never read `process`
 * directly, so tests run them in-process with captured streams, a temp working folder
 * and a controlled environment.
 */
export interface CliIo {
  /** Results: human-readable text, or one JSON document with `--json`. */
  readonly stdout: Writable;
  /** Diagnostics, errors and progress bars. */
  readonly stderr: Writable;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  readonly isTTY: boolean;
  /** Environment variables (`VITRINE_HOME`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Folder that relative paths (`./.vitrine`, `-o FILE`) are resolved against. */
  readonly cwd: string;
}

/** The real process's streams and environment, for the `vitrine` executable. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}
