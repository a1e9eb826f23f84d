import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseArtifactId, resolveArtifactId } from './artifact-ids.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
import { runCommand, withRegistry } from './run-command.js';
import { addTargetOptions, type TargetOptions } from './target-options.js';

/**
 * A signed manifest as a file: the manifest bytes exactly as the origin signed them and
 * the origin's signature (base64), with the id they name. Nothing in it is trusted until
 * `vitrine verify artifact` checks the signature against a verifier key.
 */
export interface SignedManifestFile {
  readonly id: string;
  readonly manifest: string;
  readonly signature: string;
}

interface ManifestOptions extends TargetOptions {
  readonly output: string;
}

/** `artifact manifest ID -o FILE`: the signed manifest, for checking an artifact offline. */
export function addManifest(parent: Command, io: CliIo): void {
  const manifest = parent
    .command('manifest')
    .description(
      'save an artifact’s signed manifest (its chunk list, content digest and size, as the origin signed them) to check a copy offline',
    )
    .argument('<id>', 'artifact id, or a unique prefix of at least 4 hex digits', parseArtifactId)
    .requiredOption('-o, --output <file>', 'write the signed manifest here (JSON)');
  addTargetOptions(manifest, 'read')
    .addHelpText(
      'after',
      `
Then: vitrine verify artifact FILE --manifest MANIFEST --keys keys.json
Example:
  $ vitrine artifact manifest 3fa4c2 --center europe -o router-os-4.2.manifest.json`,
    )
    .action((id: string, options: ManifestOptions) =>
      runCommand(io, options.json === true, () => saveManifest(io, id, options)),
    );
}

async function saveManifest(io: CliIo, id: string, options: ManifestOptions): Promise<void> {
  const file = await withRegistry(
    io,
    options,
    'read',
    async ({ client, target }) => {
      const fullId = await resolveArtifactId(client, id, target.label);
      const res = await client.getArtifact({ id: fullId });
      if (res.manifest.length === 0) {
        throw new CliError('INTERNAL', `${target.label} answered without the signed manifest`);
      }
      const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
      return { id: fullId, manifest: b64(res.manifest), signature: b64(res.manifestSignature) };
    },
    `artifact ${id}`,
  );
  await writeFile(resolve(io.cwd, options.output), `${JSON.stringify(file, null, 2)}\n`);
  writeResult(io, options.json === true, {
    json: () => ({ id: file.id, file: options.output }),
    human: () => [`signed manifest of ${file.id} written to ${options.output}`],
  });
}
