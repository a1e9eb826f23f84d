import { EXPORT_FORMATS } from '@vitrine/advisories';
import { findingStatuses, severities } from '@vitrine/proto/enum-words';
import type { Command } from 'commander';
import { collectArtifactIds, parseArtifactId } from './artifact-ids.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import type {
  FindingCreateOptions,
  FindingListOptions,
  FindingUpdateOptions,
} from './finding-actions.js';
import {
  commentOnFinding,
  createFinding,
  listFindings,
  showFinding,
  updateFinding,
} from './finding-actions.js';
import { exportFindings, type FindingExportOptions } from './finding-export.js';
import { type FindingImportOptions, importFindings } from './finding-import.js';
import { type FindingWatchOptions, watchFindings } from './finding-watch.js';
import { addFindingReceipt } from './receipt-commands.js';
import { runCommand } from './run-command.js';
import { shutdownSignal } from './shutdown-signal.js';
import type { TargetOptions } from './target-options.js';
import { addTargetOptions, choiceOption } from './target-options.js';

/**
 * `vitrine finding create|update|comment|ls|show|import|export|watch`: what reviewers found in
 * artifacts, and
 * how security teams track each finding to a fix across every center.
 */
export const findingCommands: CommandGroup = (program, io) => {
  const finding = program
    .command('finding')
    .description('record, triage, comment on and track findings about artifacts')
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine finding create --center europe --artifact 3fa4c2 --title "Hard-coded key" --severity high
  $ vitrine finding update europe-17 --center us --status triaged --assignee kernel-team
  $ vitrine finding show europe-17 --center asia
  $ vitrine finding export --center europe --format csaf-vex --product router-os -o vex.json`,
    );
  addCreate(finding, io);
  addUpdate(finding, io);
  addComment(finding, io);
  addList(finding, io);
  addShow(finding, io);
  addExport(finding, io);
  addWatch(finding, io);
  addFindingReceipt(finding, io);
  addImport(finding, io);
};

/** `finding import FILE`. */
function addImport(parent: Command, io: CliIo): void {
  const command = parent
    .command('import')
    .description("import a scanner's SARIF 2.1.0 results as findings on an artifact")
    .argument('<file>', 'the SARIF file (streamed in 1 MiB messages, never read whole)')
    .requiredOption(
      '--artifact <id>',
      'the artifact the file is a scan of, by id or unique prefix',
      parseArtifactId,
    );
  addTargetOptions(command, 'write')
    .addHelpText(
      'after',
      `
Each result becomes a finding, or updates the finding with the same key (tool, rule id,
fingerprints) on the artifact's product lineage: the artifact and those it supersedes or
that supersede it. A finding a scan of a later artifact no longer reports gets that artifact
as its candidate fix ("finding ls --candidate-fix"). The center checks the whole file
against the SARIF 2.1.0 schema first and records all of it or nothing; importing the same
file again records nothing. docs/finding-formats.md has the keys and the fallback.
Example:
  $ vitrine finding import codeql.sarif --artifact 3fa4c2 --center europe`,
    )
    .action((file: string, options: FindingImportOptions) =>
      runCommand(io, options.json === true, () => importFindings(io, file, options)),
    );
}

/** `finding create`. */
function addCreate(parent: Command, io: CliIo): void {
  const create = parent
    .command('create')
    .description('record a new finding about one or more artifacts')
    .requiredOption(
      '--artifact <id>',
      'artifact the finding is about, by id or unique prefix (repeat for several)',
      collectArtifactIds,
    )
    .requiredOption('--title <text>', 'one-line summary')
    .addOption(
      choiceOption(
        '--severity <level>',
        'how serious it is (default with --cvss: the band of its score)',
        severities.words,
      ),
    )
    .option('--description <text>', 'details: where, how to reproduce, impact')
    .option(
      '--cvss <vector>',
      'CVSS v3.0, v3.1 or v4.0 vector string; the registry checks every base metric and scores it',
    )
    .option(
      '--severity-reason <text>',
      'why --severity differs from the band of the --cvss score (required then, kept in history)',
    )
    .option(
      '--disclose-after <date>',
      'planned disclosure date (embargo), YYYY-MM-DD or an RFC 3339 time: no disclosure before it',
    );
  addTargetOptions(create, 'write')
    .addHelpText(
      'after',
      `
The finding id is "<center>-<number>", e.g. europe-17: each center numbers its findings 1, 2, 3, …
Example:
  $ vitrine finding create --center europe --artifact 3fa4c2 --title "Hard-coded key" \\
      --cvss "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
  $ vitrine finding create --center europe --artifact 3fa4c2 --title "Debug port" --severity low \\
      --cvss "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" --severity-reason "only on the lab network"`,
    )
    .action((options: FindingCreateOptions) =>
      runCommand(io, options.json === true, () => createFinding(io, options)),
    );
}

/** `finding update ID`. */
function addUpdate(parent: Command, io: CliIo): void {
  const update = parent
    .command('update')
    .description('change the status, severity, assignee, fix or text of a finding')
    .argument('<id>', 'finding id, e.g. europe-17')
    .addOption(choiceOption('--status <status>', 'new lifecycle status', findingStatuses.words))
    .addOption(choiceOption('--severity <level>', 'new severity', severities.words))
    .option('--assignee <team>', 'team working on it')
    .option(
      '--fix <id>',
      'update artifact that fixes it, by id or unique prefix (needed for status fixed)',
      parseArtifactId,
    )
    .option(
      '--duplicate-of <id>',
      'the finding this one duplicates (status becomes duplicate and follows that one)',
    )
    .option('--title <text>', 'new one-line summary')
    .option('--description <text>', 'new details')
    .option(
      '--cvss <vector>',
      'new CVSS vector string ("" removes it); without --severity the severity follows its band',
    )
    .option(
      '--severity-reason <text>',
      'why the severity differs from the band of the CVSS score (required then, kept in history)',
    )
    .option(
      '--disclose-after <date>',
      'new planned disclosure date, YYYY-MM-DD or an RFC 3339 time ("" lifts the embargo; kept in history)',
    );
  addTargetOptions(update, 'write')
    .addHelpText(
      'after',
      `
Statuses move new → triaged → in_progress → fixed → verified → disclosed; an open
finding may also end as rejected or duplicate. --duplicate-of links findings filed about
the same issue (at any center): the duplicate then shows its original's status as its
effective status, and \`finding show\` shows the link both ways. Status disclosed is refused
before the finding's --disclose-after date. The due date counts from the first triage (days
to fix per severity: the federation manifest's serviceLevels).
Examples:
  $ vitrine finding update europe-17 --center europe --status fixed --fix 9bd107
  $ vitrine finding update asia-4 --center asia --duplicate-of europe-17
  $ vitrine finding update europe-17 --center europe --disclose-after 2027-03-01`,
    )
    .action((id: string, options: FindingUpdateOptions) =>
      runCommand(io, options.json === true, () => updateFinding(io, id, options)),
    );
}

/** `finding comment ID`. */
function addComment(parent: Command, io: CliIo): void {
  const comment = parent
    .command('comment')
    .description('add a comment to a finding (comments are never edited or removed)')
    .argument('<id>', 'finding id, e.g. europe-17')
    .requiredOption('--text <text>', 'the comment');
  addTargetOptions(comment, 'write')
    .addHelpText(
      'after',
      '\nExample:\n  $ vitrine finding comment europe-17 --center us --text "Reproduced on 4.2.1"',
    )
    .action((id: string, options: TargetOptions & { text: string }) =>
      runCommand(io, options.json === true, () => commentOnFinding(io, id, options)),
    );
}

/** `finding ls`. */
function addList(parent: Command, io: CliIo): void {
  const ls = parent
    .command('ls')
    .description('list the findings a center holds')
    .option(
      '--artifact <id>',
      'only findings about this artifact (id or unique prefix)',
      parseArtifactId,
    )
    .addOption(
      choiceOption('--status <status>', 'only findings with this status', findingStatuses.words),
    )
    .addOption(
      choiceOption('--severity <level>', 'only findings of this severity', severities.words),
    )
    .option('--candidate-fix', 'only findings a later scan no longer reports (see finding import)')
    .option('--overdue', 'only open findings past their due date (days to fix from triage)');
  addTargetOptions(ls, 'read')
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine finding ls --center europe --status new --severity critical
  $ vitrine finding ls --center europe --overdue --json`,
    )
    .action((options: FindingListOptions) =>
      runCommand(io, options.json === true, () => listFindings(io, options)),
    );
}

/** `finding show ID`. */
function addShow(parent: Command, io: CliIo): void {
  const show = parent
    .command('show')
    .description('show a finding with its comments and full change history')
    .argument('<id>', 'finding id, e.g. europe-17');
  addTargetOptions(show, 'read')
    .addHelpText(
      'after',
      `
History lists every change in order; a change a concurrent edit overwrote is marked
as a conflict, so nothing anyone wrote is lost.
Example:
  $ vitrine finding show europe-17 --center asia --json`,
    )
    .action((id: string, options: TargetOptions) =>
      runCommand(io, options.json === true, () => showFinding(io, id, options)),
    );
}

/** `finding export`. */
function addExport(parent: Command, io: CliIo): void {
  const exporter = parent
    .command('export')
    .description('export findings as an OSV, CSAF 2.0 or SARIF 2.1.0 document')
    .addOption(
      choiceOption('--format <format>', 'document format', EXPORT_FORMATS).makeOptionMandatory(),
    )
    .option('--finding <id>', 'only this finding, e.g. europe-17')
    .option(
      '--artifact <id>',
      'only findings on this artifact (id or unique prefix)',
      parseArtifactId,
    )
    .option('--product <name>', 'only findings on artifacts of this product')
    .option('-o, --output <file>', "file to write ('-', the default, for stdout)")
    .option('-f, --force', 'replace the output file if it exists');
  addTargetOptions(exporter, 'read')
    .addHelpText(
      'after',
      `
Formats: osv (one OSV 1.7.5 record for --finding, else a JSON array of records; ids are
x_VITRINE-<finding>), csaf (a CSAF 2.0 security advisory of disclosed findings), csaf-vex
(a CSAF 2.0 VEX document: each product version fixed, known affected with its remediation,
or under investigation) and sarif (a SARIF 2.1.0 log). Without --finding, --artifact or
--product: every finding your credential lets you read. A partner's export holds only
findings on artifacts its scope covers.
Examples:
  $ vitrine finding export --center europe --format osv --finding europe-17
  $ vitrine finding export --center us --format csaf --product router-os -o advisory.json`,
    )
    .action((options: FindingExportOptions) =>
      runCommand(io, options.json === true, () => exportFindings(io, options)),
    );
}

/** `finding watch`. */
function addWatch(parent: Command, io: CliIo): void {
  const watch = parent
    .command('watch')
    .description('print finding changes at a center as they happen, from any center')
    .option('--product <name>', 'only findings about an artifact of this product')
    .addOption(
      choiceOption(
        '--status <status>',
        'only changes that leave a finding in this status',
        findingStatuses.words,
      ),
    )
    .addOption(
      choiceOption(
        '--severity <level>',
        'only changes that leave a finding at this severity',
        severities.words,
      ),
    )
    .option(
      '--from <position>',
      'resume after this position (printed with --json); without it, start with the next change',
    );
  addTargetOptions(watch, 'read')
    .addHelpText(
      'after',
      `
Runs until Ctrl-C. A lost connection is retried with back-off and resumes after the last
position received: no change is missed or printed twice. With --json each change is one
line {"position", "change", "origin", "seq", "finding"}, and while none comes a heartbeat
line {"position", "heartbeat": true}; a position is valid only at the center that sent it.
Example:
  $ vitrine finding watch --center europe --product agent --severity critical
  $ vitrine finding watch --center europe --json --from "$(tail -1 watch.log | jq -r .position)"`,
    )
    .action((options: FindingWatchOptions) =>
      runCommand(io, options.json === true, async () => {
        const stop = new AbortController();
        void shutdownSignal().then(() => stop.abort());
        await watchFindings(io, options, stop.signal);
      }),
    );
}
