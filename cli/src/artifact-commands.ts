import { artifactKinds } from '@vitrine/proto/enum-words';
import type { Command } from 'commander';
import { parseArtifactId } from './artifact-ids.js';
import { addManifest } from './artifact-manifest.js';
import type { PullOptions } from './artifact-pull.js';
import { pullArtifact } from './artifact-pull.js';
import type { PushOptions } from './artifact-push.js';
import { pushArtifact } from './artifact-push.js';
import type { ArtifactListOptions } from './artifact-queries.js';
import { listArtifacts, showArtifact } from './artifact-queries.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { addArtifactReceipt } from './receipt-commands.js';
import { runCommand } from './run-command.js';
import type { TargetOptions } from './target-options.js';
import { addTargetOptions, choiceOption, parseResidency } from './target-options.js';

/**
 * `vitrine artifact push|pull|ls|show`: the review artifacts (source snapshots, software
 * updates, rule updates) a center holds.
 */
export const artifactCommands: CommandGroup = (program, io) => {
  const artifact = program
    .command('artifact')
    .description('publish, download and list review artifacts (source, update, rules)')
    .addHelpText(
      'after',
      `
Examples:
  $ vitrine artifact push ./router-os-4.2.tar.gz --center europe --kind source --product router-os --version 4.2
  $ vitrine artifact ls --center europe --kind source
  $ vitrine artifact pull 3fa4c2 --center europe -o router-os-4.2.tar.gz`,
    );
  addPush(artifact, io);
  addPull(artifact, io);
  addList(artifact, io);
  addShow(artifact, io);
  addManifest(artifact, io);
  addArtifactReceipt(artifact, io);
};

/** `artifact push FILE`. */
function addPush(parent: Command, io: CliIo): void {
  const push = parent
    .command('push')
    .description(
      'publish FILE as an artifact at a center: hashed, streamed in 1 MiB messages, chunked and signed by the center',
    )
    .argument('<file>', 'file to publish')
    .addOption(
      choiceOption(
        '--kind <kind>',
        'what the artifact is',
        artifactKinds.words,
      ).makeOptionMandatory(),
    )
    .requiredOption('--product <name>', 'product the artifact belongs to')
    .requiredOption('--version <version>', 'product version')
    .option(
      '--residency <codes>',
      "jurisdictions allowed to hold it, comma-separated (default: all, or with --supersedes the superseded artifact's)",
      parseResidency,
    )
    .option(
      '--supersedes <id>',
      'id (or unique prefix) of the artifact this one replaces; its residency is kept unless narrowed',
      parseArtifactId,
    )
    .option(
      '--widen-residency',
      'with --supersedes: allow jurisdictions the superseded artifact did not (all of them without --residency); recorded in the signed manifest',
    );
  addTargetOptions(push, 'write')
    .addHelpText(
      'after',
      `
Prints the artifact id, whether it is new, and how many chunks were stored or already held.
A new version (--supersedes) keeps the residency of the one it replaces: --residency may
narrow it; widening it takes --widen-residency, and every center shows it was widened.
Examples:
  $ vitrine artifact push ./rules-2025-06.tar --center us --kind rules --product edr-rules --version 2025.06 --residency US,EU
  $ vitrine artifact push ./rules-2025-07.tar --center us --kind rules --product edr-rules --version 2025.07 --supersedes 3fa4…c2`,
    )
    .action((file: string, options: PushOptions) =>
      runCommand(io, options.json === true, () => pushArtifact(io, file, options)),
    );
}

/** `artifact pull ID -o FILE`. */
function addPull(parent: Command, io: CliIo): void {
  const pull = parent
    .command('pull')
    .description('download an artifact, verify its SHA-256, then move it into place')
    .argument('<id>', 'artifact id, or a unique prefix of at least 4 hex digits', parseArtifactId)
    .requiredOption('-o, --output <file>', "file to write ('-' for stdout)")
    .option('-f, --force', 'replace the output file if it exists');
  addTargetOptions(pull, 'read')
    .addHelpText(
      'after',
      `
An existing FILE is kept unless --force is given. Bytes go to FILE.<random>.partial
first; FILE appears (or is replaced) only once every byte is verified.
Example:
  $ vitrine artifact pull 3fa4c2 --center europe -o router-os-4.2.tar.gz`,
    )
    .action((id: string, options: PullOptions) =>
      runCommand(io, options.json === true, () => pullArtifact(io, id, options)),
    );
}

/** `artifact ls`. */
function addList(parent: Command, io: CliIo): void {
  const ls = parent
    .command('ls')
    .description('list the artifacts a center holds')
    .addOption(choiceOption('--kind <kind>', 'only artifacts of this kind', artifactKinds.words))
    .option('--product <name>', 'only artifacts of this product');
  addTargetOptions(ls, 'read')
    .addHelpText(
      'after',
      '\nExample:\n  $ vitrine artifact ls --center asia --kind update --product router-os',
    )
    .action((options: ArtifactListOptions) =>
      runCommand(io, options.json === true, () => listArtifacts(io, options)),
    );
}

/** `artifact show ID`. */
function addShow(parent: Command, io: CliIo): void {
  const show = parent
    .command('show')
    .description("show one artifact: kind, product, size, digest, residency and this center's copy")
    .argument('<id>', 'artifact id, or a unique prefix of at least 4 hex digits', parseArtifactId);
  addTargetOptions(show, 'read')
    .addHelpText('after', '\nExample:\n  $ vitrine artifact show 3fa4c2 --center us --json')
    .action((id: string, options: TargetOptions) =>
      runCommand(io, options.json === true, () => showArtifact(io, id, options)),
    );
}
