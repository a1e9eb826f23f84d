/**
 * Entry point of `vitrine dev` in the built command (cli/dist/dev.mjs): the supervisor
 * knows one command and loads only what it needs to prepare the data folder and start the
 * services, so it stays a small process beside them.
 */
import { devCommand } from './dev-command.js';
import { runProgram } from './main.js';

/** Runs `vitrine dev …`; resolves to the exit status. */
export function main(argv: readonly string[]): Promise<number> {
  return runProgram(argv, [devCommand]);
}
