/**
 * Entry point of `vitrine serve` in the built command (cli/dist/serve.mjs): a service
 * process loads the `serve` command and then the packages of the one service it runs.
 */
import { runProgram } from './main.js';
import { serveCommands } from './serve-command.js';

/** Runs `vitrine serve …`; resolves to the exit status. */
export function main(argv: readonly string[]): Promise<number> {
  return runProgram(argv, [serveCommands]);
}
