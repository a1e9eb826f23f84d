import type { CliIo } from './cli-io.js';
import { processIo } from './cli-io.js';
import { COMMAND_GROUPS } from './command-groups.js';
import { runProgram } from './main.js';

/**
 * Runs `vitrine` with every command, `argv` as `process.argv` shapes it, and resolves to
 * the exit status (0 ok, 1 failure, 2 usage). The entry point of the built command.
 */
export function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  return runProgram(argv, COMMAND_GROUPS, io);
}
