import { accessActions, artifactKinds } from '@vitrine/proto/enum-words';
import type { Command } from 'commander';
import {
  decideRequest,
  decisionReceipt,
  type ListOptions,
  listRequests,
  listRevocations,
  type ReceiptOptions,
  type RequestOptions,
  type RevokeOptions,
  requestAccess,
  revoke,
  rotateKeys,
  showRequest,
} from './access-actions.js';
import type { AccessFlags } from './access-client.js';
import { usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { runCommand } from './run-command.js';
import { addAccessInit } from './setup-commands.js';
import { choiceOption, collect } from './target-options.js';

/**
 * `vitrine access request|approve|deny|ls|show|revoke|keys rotate`: partners ask for
 * scoped, time-boxed access; approvers decide; operators and security revoke and rotate.
 * Every call is signed with the profile's key.
 */
export const accessCommands: CommandGroup = (program, io) => {
  const access = program
    .command('access')
    .description('request, approve, inspect and revoke partner access')
    .addHelpText(
      'after',
      `
Commands act as the profile chosen by --profile (or $VITRINE_PROFILE; default: operator).
Examples:
  $ vitrine access request --profile acme --jurisdiction EU --kind source --product router-os \\
      --action read --action review --for 72h --justification "certification review"
  $ vitrine access approve r-3f…  --reason "scope matches the certification"
  $ vitrine access show r-3f… --profile acme      # stores the credential once approved`,
    );
  addRequest(access, io);
  addDecide(access, io, 'approve');
  addDecide(access, io, 'deny');
  addList(access, io);
  addShow(access, io);
  addRevoke(access, io);
  addRevocations(access, io);
  addReceipt(access, io);
  addAccessInit(access, io);
  const keys = access
    .command('keys')
    .description('manage the keys that sign credentials')
    .addHelpText('after', '\nExample:\n  $ vitrine access keys rotate --json');
  addAccessOptions(keys.command('rotate').description('make a new key sign credentials'))
    .addHelpText(
      'after',
      '\nCredentials signed by earlier keys stay valid until they expire.\nExample:\n  $ vitrine access keys rotate',
    )
    .action((options: AccessFlags, command: Command) =>
      run(io, options, command, (flags) => rotateKeys(io, flags)),
    );
};

/**
 * The flags every access command takes: `--endpoint` (the access service), `--data`,
 * `--json`. `--profile` is the program's, read through `optsWithGlobals`.
 */
export function addAccessOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'access service URL (default: from federation.json)')
    .option(
      '--data <dir>',
      'data folder holding federation.json and profiles (default: $VITRINE_HOME or ./.vitrine)',
    )
    .option('--json', 'print one JSON document on stdout instead of text');
}

/** Runs an access command with its own flags and the program's `--profile`. */
export function run<T extends AccessFlags>(
  io: CliIo,
  options: T,
  command: Command,
  body: (flags: T) => Promise<void>,
): Promise<void> {
  const flags = { ...command.optsWithGlobals(), ...options } as T;
  return runCommand(io, flags.json === true, () => body(flags));
}

function addRequest(parent: Command, io: CliIo): void {
  const request = parent
    .command('request')
    .description('ask for access to artifacts of one jurisdiction, for a time')
    .requiredOption('--jurisdiction <code>', 'jurisdiction whose centers you need (e.g. EU)')
    .addOption(
      choiceOption(
        '--kind <kind...>',
        'artifact kinds (default: all the policy allows)',
        artifactKinds.words,
      ),
    )
    .option('--product <name>', 'limit to a product (repeat for several)', collect)
    .option('--artifact <id>', 'limit to an artifact id (repeat for several)', collect)
    .addOption(
      choiceOption('--action <action...>', 'what you will do (default: read)', accessActions.words),
    )
    .option('--for <duration>', 'how long, in hours or days: 72h, 30d')
    .option('--until <time>', 'end of the window (ISO 8601), instead of --for')
    .option('--from <time>', 'start of the window (default: when approved)')
    .requiredOption('--justification <text>', 'why you need it: what approvers read')
    .option('--partner <id>', 'operators: the partner to request for');
  addAccessOptions(request)
    .addHelpText(
      'after',
      `
The window starts at approval (or --from) and never outlasts the jurisdiction's policy.
Example:
  $ vitrine access request --profile acme --jurisdiction EU --kind source --action read review \\
      --for 72h --justification "certification review of router-os 4.x"`,
    )
    .action((options: RequestOptions, command: Command) =>
      run(io, options, command, (flags) => requestAccess(io, flags)),
    );
}

function addDecide(parent: Command, io: CliIo, verb: 'approve' | 'deny'): void {
  const decide = parent
    .command(verb)
    .description(
      verb === 'approve'
        ? 'approve a request (approvers; the credential is issued on the last approval needed)'
        : 'deny a request (final)',
    )
    .argument('<id>', 'request id, r-…')
    .requiredOption('--reason <text>', 'why: kept with the decision for good');
  addAccessOptions(decide)
    .addHelpText(
      'after',
      `\nExample:\n  $ vitrine access ${verb} r-3f… --reason "${verb === 'approve' ? 'scope matches the certification' : 'justification too vague'}"`,
    )
    .action((id: string, options: AccessFlags & { reason: string }, command: Command) =>
      run(io, options, command, (flags) => decideRequest(io, id, verb === 'approve', flags)),
    );
}

function addList(parent: Command, io: CliIo): void {
  const ls = parent
    .command('ls')
    .description('list access requests, newest first (a partner sees its own)')
    .option('--partner <id>', 'only this partner’s requests')
    .option('--approver <name>', 'only requests this approver decided')
    .option('--since <time>', 'made at or after this time (ISO 8601)')
    .option('--until <time>', 'made before this time (ISO 8601)');
  addAccessOptions(ls)
    .addHelpText(
      'after',
      '\nExample:\n  $ vitrine access ls --approver local --since 2026-11-01T00:00:00Z',
    )
    .action((options: ListOptions, command: Command) =>
      run(io, options, command, (flags) => listRequests(io, flags)),
    );
}

function addShow(parent: Command, io: CliIo): void {
  const show = parent
    .command('show')
    .description('show a request with its decisions; stores an approved credential in your profile')
    .argument('<id>', 'request id, r-…');
  addAccessOptions(show)
    .addHelpText('after', '\nExample:\n  $ vitrine access show r-3f… --profile acme')
    .action((id: string, options: AccessFlags, command: Command) =>
      run(io, options, command, (flags) => showRequest(io, id, flags)),
    );
}

function addRevoke(parent: Command, io: CliIo): void {
  const revokeCommand = parent
    .command('revoke')
    .description('revoke a credential, every credential of a partner, or a signing key')
    .option('--credential <id>', 'one credential, c-…')
    .option('--partner <id>', 'every credential issued to this partner so far')
    .option('--key <kid>', 'every credential signed by this key (k4.pid.…)')
    .requiredOption('--reason <text>', 'why: kept with the revocation for good');
  addAccessOptions(revokeCommand)
    .addHelpText(
      'after',
      '\nEvery center learns of it within a moment and refuses the credential from then on.\nExample:\n  $ vitrine access revoke --credential c-9a… --reason "laptop lost"',
    )
    .action((options: RevokeOptions, command: Command) =>
      run(io, options, command, (flags) => revoke(io, flags)),
    );
}

function addRevocations(parent: Command, io: CliIo): void {
  const revocations = parent
    .command('revocations')
    .description('list revocations, newest first (kept for good; a partner sees its own)')
    .option('--partner <id>', 'only revocations concerning this partner')
    .option('--since <time>', 'made at or after this time (ISO 8601)')
    .option('--until <time>', 'made before this time (ISO 8601)');
  addAccessOptions(revocations)
    .addHelpText(
      'after',
      '\nExample:\n  $ vitrine access revocations --partner p-1b2f19218e26 --json',
    )
    .action((options: ListOptions, command: Command) =>
      run(io, options, command, (flags) => listRevocations(io, flags)),
    );
}

function addReceipt(parent: Command, io: CliIo): void {
  const receipt = parent
    .command('receipt')
    .description(
      'write a receipt for a decision of the access log (a request, approval, denial, credential issued or revocation): a C2SP tlog-proof that anyone verifies offline',
    )
    .option('--index <n>', 'the decision by its leaf index in the access log', nonNegativeInteger)
    .option('--request <id>', 'the newest decision about this request, r-…')
    .option('--credential <id>', 'the newest decision about this credential, c-…')
    .option('-o, --output <file>', 'write the receipt here (default: stdout)');
  addAccessOptions(receipt)
    .addHelpText(
      'after',
      `
A partner gets receipts for decisions that concern it; an operator for any. The receipt
holds the decision as the access service signed it, its inclusion proof and the access
log's checkpoint with the centers' cosignatures. Check it anywhere with
\`vitrine verify receipt FILE --keys keys.json\` (keys.json: \`vitrine federation keys --json\`).
Example:
  $ vitrine access receipt --request r-3f… --profile acme -o request.tlog-proof`,
    )
    .action((options: ReceiptOptions, command: Command) =>
      run(io, options, command, (flags) => decisionReceipt(io, flags)),
    );
}

/** Parses a non-negative integer option; a usage error otherwise. */
function nonNegativeInteger(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw usageError(`--index takes a leaf index (0, 1, …), not "${text}"`);
  }
  return n;
}
