import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Artifact } from '@vitrine/proto/artifact';
import type { PullArtifactResponse } from '@vitrine/proto/registry';
import { resolveArtifactId } from './artifact-ids.js';
import { artifactJson } from './artifact-view.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
import { alreadyThere, exists, fileSink, type Sink, streamSink } from './output-file.js';
import { safeNumber } from './plain-values.js';
import { withRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';
import type { TransferProgress } from './transfer-progress.js';
import { createTransferProgress } from './transfer-progress.js';
import { formatBytes } from './units.js';

/** The flags of `vitrine artifact pull`; `output` is a path, or `-` for stdout. */
export interface PullOptions extends TargetOptions {
  readonly output: string;
  /** Replace `output` if it exists; without it an existing file is a usage error. */
  readonly force?: boolean | undefined;
}

/**
 * Downloads an artifact. An existing FILE is refused unless `--force` is given, before
 * anything is downloaded. Bytes go to a new `FILE.<random>.partial` beside it, are hashed
 * as they arrive and checked against the header's content digest and size; only then is
 * the file fsynced and moved to FILE, so FILE never holds a partial or corrupt artifact.
 * Any failure removes the partial file.
 */
export async function pullArtifact(io: CliIo, id: string, options: PullOptions): Promise<void> {
  const json = options.json === true;
  const toStdout = options.output === '-';
  if (toStdout && json)
    throw usageError('--json cannot be combined with -o - (stdout carries the artifact)');
  const path = toStdout ? '-' : resolve(io.cwd, options.output);
  const replace = options.force === true;
  if (!toStdout && !replace && (await exists(path))) throw alreadyThere(path);
  const progress = createTransferProgress(io, json);
  try {
    const artifact = await withRegistry(
      io,
      options,
      'read',
      async ({ client, target }) => {
        // The file is created only once the center has answered with the header.
        const opened: { sink?: Sink } = {};
        const openSink = async (): Promise<Sink> => {
          opened.sink = toStdout ? streamSink(io.stdout) : await fileSink(path, replace);
          return opened.sink;
        };
        try {
          const resolved = await resolveArtifactId(client, id, target.label);
          const pulled = await receive(
            client.pullArtifact({ id: resolved }),
            openSink,
            progress,
            target.label,
          );
          await opened.sink?.commit();
          return pulled;
        } catch (err) {
          await opened.sink?.discard();
          throw err;
        }
      },
      `artifact ${id}`,
    );
    progress.stop();
    if (!toStdout) printPulled(io, json, artifact, path);
  } finally {
    progress.stop();
  }
}

/** Reads the header, then the data, checking order, size and SHA-256 (DATA_LOSS otherwise). */
async function receive(
  responses: AsyncIterable<PullArtifactResponse>,
  openSink: () => Promise<Sink>,
  progress: TransferProgress,
  where: string,
): Promise<Artifact> {
  const hash = createHash('sha256');
  let artifact: Artifact | undefined;
  let sink: Sink | undefined;
  let received = 0n;
  for await (const response of responses) {
    const part = response.part;
    if (part.case === 'artifact') {
      if (artifact !== undefined) throw dataLoss(where, 'sent a second artifact header');
      artifact = part.value;
      sink = await openSink();
      progress.start('pulling', Number(artifact.size));
    } else if (part.case === 'data') {
      if (artifact === undefined || sink === undefined) {
        throw dataLoss(where, 'sent data before the artifact header');
      }
      received += BigInt(part.value.length);
      if (received > artifact.size)
        throw dataLoss(where, `sent more than the ${artifact.size} bytes announced`);
      hash.update(part.value);
      await sink.write(part.value);
      progress.advance(part.value.length);
    }
  }
  if (artifact === undefined)
    throw dataLoss(where, 'ended the download without an artifact header');
  if (received !== artifact.size) {
    throw dataLoss(where, `sent ${received} of ${artifact.size} bytes of artifact ${artifact.id}`);
  }
  const digest = hash.digest('hex');
  if (digest !== artifact.contentDigest) {
    throw dataLoss(
      where,
      `sent bytes hashing to ${digest}, but artifact ${artifact.id} has ${artifact.contentDigest}`,
    );
  }
  return artifact;
}

/** A verification failure of a download, naming the center. */
function dataLoss(where: string, what: string): CliError {
  return new CliError('DATA_LOSS', `${where} ${what}`);
}

/** Prints where the verified artifact was written. */
function printPulled(io: CliIo, json: boolean, artifact: Artifact, path: string): void {
  writeResult(io, json, {
    json: () => ({ artifact: artifactJson(artifact), path, bytes: safeNumber(artifact.size) }),
    human: () => [
      `wrote ${formatBytes(Number(artifact.size))} to ${path}`,
      `  artifact ${artifact.id}: ${artifact.product} ${artifact.version}, sha256 ${artifact.contentDigest} verified`,
    ],
  });
}
