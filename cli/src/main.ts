import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE, ReportedFailure } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { processIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { reportError } from './output.js';
import { buildProgram } from './program.js';

/**
 * Runs `vitrine` with `argv` as `process.argv` shapes it (node, script, args…) and
 * resolves to the exit status: 0 ok, 1 remote or domain error, 2 usage error. It never
 * calls `process.exit`, so the caller decides when the process ends. `groups` are the
 * commands it knows (the entry points of `vitrine dev` and `vitrine serve` pass theirs).
 */
export async function runProgram(
  argv: readonly string[],
  groups: readonly CommandGroup[],
  io: CliIo = processIo(),
): Promise<number> {
  const program = buildProgram(io, groups);
  try {
    await program.parseAsync([...argv], { from: 'node' });
    return 0;
  } catch (err) {
    if (err instanceof ReportedFailure) return err.exitCode;
    const json = wantsJson(argv);
    if (err instanceof CommanderError) return commanderExit(io, json, program, argv, err);
    const message = err instanceof Error ? err.message : String(err);
    reportError(io, json, new CliError('INTERNAL', message, { cause: err }));
    return EXIT_FAILURE;
  }
}

/**
 * Help and version end with 0; help shown because a command was incomplete, and every
 * parse error (unknown option, bad choice, missing argument), is a usage error.
 */
function commanderExit(
  io: CliIo,
  json: boolean,
  program: Command,
  argv: readonly string[],
  err: CommanderError,
): number {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
  if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : EXIT_USAGE;
  const message = err.message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.$/, '');
  const path = commandPath(program, argv.slice(2));
  reportError(io, json, new CliError('USAGE', `${message}; see \`${path} --help\``));
  return EXIT_USAGE;
}

/** The command the arguments name (`vitrine artifact push`), for the help hint. */
function commandPath(program: Command, args: readonly string[]): string {
  const names = [program.name()];
  let current = program;
  for (const arg of args) {
    if (arg === '--') break;
    const next = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (next === undefined) continue;
    names.push(next.name());
    current = next;
    if (current.commands.length === 0) break;
  }
  return names.join(' ');
}

/** Whether `--json` was asked for, read from the raw arguments when parsing failed. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
