import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { Access, TargetFlags } from './endpoints.js';

/** The flags `addTargetOptions` adds, as commander hands them to an action. */
export interface TargetOptions extends TargetFlags {
  readonly json?: boolean | undefined;
}

/**
 * Adds the flags every registry command shares: where to talk to (`--center`,
 * `--endpoint`, `--data`) and `--json`. Commands that write say so in the `--center`
 * help, because for them the flag is not optional.
 */
export function addTargetOptions(command: Command, access: Access): Command {
  const center =
    access === 'write'
      ? 'center that records the change (required unless --endpoint is given)'
      : 'center to ask (default: the first center in federation.json)';
  return command
    .option('--center <id>', center)
    .option('--endpoint <url>', 'registry URL to call directly, instead of looking up --center')
    .option(
      '--data <dir>',
      'data folder holding federation.json (default: $VITRINE_HOME or ./.vitrine)',
    )
    .option('--json', 'print one JSON document on stdout instead of text');
}

/** An option whose value must be one of `words` (commander reports anything else as a usage error). */
export function choiceOption(flags: string, description: string, words: readonly string[]): Option {
  return new Option(flags, description).choices(words);
}

/** Collects a repeatable flag (`--artifact A --artifact B`) into a list. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Parses `--residency EU,US` into upper-case jurisdiction codes. Empty entries and
 * anything that is not a short code are refused before any bytes are sent.
 */
export function parseResidency(value: string): string[] {
  const codes = value.split(',').map((code) => code.trim().toUpperCase());
  const bad = codes.filter((code) => !/^[A-Z][A-Z0-9]{1,7}$/.test(code));
  if (bad.length > 0 || codes.length === 0) {
    throw new InvalidArgumentError(
      `expected jurisdiction codes separated by commas, e.g. EU,US (bad: ${bad.map((c) => `'${c}'`).join(', ')})`,
    );
  }
  return [...new Set(codes)].sort();
}
