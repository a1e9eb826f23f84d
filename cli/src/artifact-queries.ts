import type { KindWord } from '@vitrine/proto/enum-words';
import { artifactKinds } from '@vitrine/proto/enum-words';
import { resolveArtifactId } from './artifact-ids.js';
import { artifactDetailLines, artifactJson, artifactTableLines } from './artifact-view.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
import { collectPages, PAGE_SIZE } from './pages.js';
import { withRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';

/** The flags of `vitrine artifact ls`. */
export interface ArtifactListOptions extends TargetOptions {
  readonly kind?: KindWord | undefined;
  readonly product?: string | undefined;
}

/** Lists every artifact at the center that matches the filters, following page tokens. */
export async function listArtifacts(io: CliIo, options: ArtifactListOptions): Promise<void> {
  const kind = options.kind === undefined ? 0 : artifactKinds.value(options.kind);
  const { where, artifacts } = await withRegistry(
    io,
    options,
    'read',
    async ({ client, target }) => {
      const found = await collectPages(async (pageToken) => {
        const page = await client.listArtifacts({
          kind,
          product: options.product ?? '',
          pageSize: PAGE_SIZE,
          pageToken,
        });
        return { items: page.artifacts, nextPageToken: page.nextPageToken };
      });
      return { where: target.label, artifacts: found };
    },
  );
  writeResult(io, options.json === true, {
    json: () => ({ artifacts: artifacts.map(artifactJson) }),
    human: () => artifactTableLines(artifacts, where),
  });
}

/** Shows one artifact as the center reports it. */
export async function showArtifact(io: CliIo, id: string, options: TargetOptions): Promise<void> {
  const artifact = await withRegistry(
    io,
    options,
    'read',
    async ({ client, target }) => {
      const response = await client.getArtifact({
        id: await resolveArtifactId(client, id, target.label),
      });
      if (response.artifact === undefined) {
        throw new CliError('INTERNAL', `${target.label} answered without the artifact`);
      }
      return response.artifact;
    },
    `artifact ${id}`,
  );
  writeResult(io, options.json === true, {
    json: () => ({ artifact: artifactJson(artifact) }),
    human: () => artifactDetailLines(artifact),
  });
}
