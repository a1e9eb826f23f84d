import { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';

/** Width help text wraps at when stdout is not a terminal, so help reads the same in tests and pipes. */
const HELP_WIDTH = 100;

/**
 * Builds the `vitrine` command tree of `groups` (all of them: `COMMAND_GROUPS`) over the
 * injected streams. The supervisor of `vitrine dev` and a service build theirs of their own
 * group only, so they load no other command's code. Commander never exits
 * the process or prints errors itself: `main` turns its errors into exit statuses, so
 * the whole CLI runs in-process under test.
 */
export function buildProgram(io: CliIo, groups: readonly CommandGroup[]): Command {
  const helpWidth = (stream: object): number =>
    (stream as { columns?: number }).columns ?? HELP_WIDTH;
  const program = new Command('vitrine')
    .description(
      'Federated review sync for Transparency Centers: publish artifacts, record findings,\n' +
        'and follow them across every center.',
    )
    .option(
      '--profile <name>',
      'act as this profile: <data>/profiles/<name> (default: $VITRINE_PROFILE or operator)',
    )
    // Every action sees the program's --profile among its own options, so the commands
    // that call centers sign as the chosen profile.
    .hook('preAction', (self, action) => {
      const profile = self.opts().profile;
      if (profile !== undefined && action !== self) action.setOptionValue('profile', profile);
    })
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
      getOutHelpWidth: () => helpWidth(io.stdout),
      getErrHelpWidth: () => helpWidth(io.stderr),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .addHelpText(
      'after',
      `
Every command takes --json for one machine-readable JSON document on stdout.
Centers are looked up in <data>/federation.json (--data, $VITRINE_HOME or ./.vitrine);
--endpoint URL talks to one registry directly. \`vitrine dev\` (\`npm start\`) listens on
127.0.0.1:7400 (access) and 7410-7431 (centers); --base-port N moves them. An artifact
id may be shortened to a unique prefix of at least 4 hex digits.

Examples:
  $ vitrine artifact ls --center europe
  $ vitrine finding show europe-17 --center us --json`,
    );
  for (const group of groups) registerCommandGroup(program, io, group);
  return program;
}

/**
 * Adds one command group to a program built by `buildProgram`. Groups registered after
 * the program is configured inherit its output and exit handling.
 */
export function registerCommandGroup(program: Command, io: CliIo, group: CommandGroup): Command {
  group(program, io);
  return program;
}
