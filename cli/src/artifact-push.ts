import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { KindWord } from '@vitrine/proto/enum-words';
import { artifactKinds } from '@vitrine/proto/enum-words';
import type {
  PushArtifactMetadata,
  PushArtifactRequest,
  PushArtifactResponse,
} from '@vitrine/proto/registry';
import { PushArtifactMetadataSchema, PushArtifactRequestSchema } from '@vitrine/proto/registry';
import { resolveArtifactId } from './artifact-ids.js';
import { artifactJson } from './artifact-view.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { resolveTarget } from './endpoints.js';
import { writeResult } from './output.js';
import { regularFileSize } from './readable-file.js';
import { centerAuth } from './registry-auth.js';
import { callRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';
import type { TransferProgress } from './transfer-progress.js';
import { createTransferProgress } from './transfer-progress.js';
import { formatBytes } from './units.js';

/** The flags of `vitrine artifact push`. */
export interface PushOptions extends TargetOptions {
  readonly kind: KindWord;
  readonly product: string;
  readonly version: string;
  readonly residency?: readonly string[] | undefined;
  readonly supersedes?: string | undefined;
  readonly widenResidency?: boolean | undefined;
}

/** Bytes per data message, the registry's limit; also the read size, so memory stays flat. */
const PUSH_MESSAGE_BYTES = 1024 * 1024;

/**
 * Uploads a file as an artifact. The file is hashed first and the digest sent in the
 * metadata, so the center refuses (DATA_LOSS) rather than publishes anything that changed
 * or was damaged on the way; then it is streamed in 1 MiB messages, never held whole.
 */
export async function pushArtifact(io: CliIo, file: string, options: PushOptions): Promise<void> {
  const path = resolve(io.cwd, file);
  const size = await regularFileSize(path, file);
  checkNonEmpty({ '--product': options.product, '--version': options.version });
  // Resolved before hashing, so a bad --center does not wait for a large file to be read.
  const target = await resolveTarget(options, 'write', io.env, io.cwd);
  const json = options.json === true;
  const progress = createTransferProgress(io, json);
  try {
    const digest = await hashFile(path, size, progress);
    const metadata = create(PushArtifactMetadataSchema, {
      kind: artifactKinds.value(options.kind),
      product: options.product,
      version: options.version,
      residency: [...(options.residency ?? [])],
      supersedes: options.supersedes ?? '',
      widenResidency: options.widenResidency === true,
      expectedDigest: digest,
    });
    const auth = await centerAuth(options, io.env, io.cwd);
    const response = await callRegistry(
      target,
      async ({ client }) => {
        if (options.supersedes !== undefined) {
          metadata.supersedes = await resolveArtifactId(client, options.supersedes, target.label);
        }
        progress.start('pushing', size);
        return client.pushArtifact(pushRequests(path, metadata, progress));
      },
      undefined,
      auth,
    );
    progress.stop();
    printPushed(io, json, target.label, response, Buffer.from(digest).toString('hex'));
  } finally {
    progress.stop();
  }
}

/** The first message carries the metadata, every later one up to 1 MiB of the file. */
async function* pushRequests(
  path: string,
  metadata: PushArtifactMetadata,
  progress: TransferProgress,
): AsyncGenerator<PushArtifactRequest> {
  yield create(PushArtifactRequestSchema, { part: { case: 'metadata', value: metadata } });
  for await (const data of createReadStream(path, { highWaterMark: PUSH_MESSAGE_BYTES })) {
    const bytes = data as Buffer;
    progress.advance(bytes.length);
    yield create(PushArtifactRequestSchema, { part: { case: 'data', value: bytes } });
  }
}

/** SHA-256 of the file, read as a stream. */
async function hashFile(
  path: string,
  size: number,
  progress: TransferProgress,
): Promise<Uint8Array> {
  progress.start('hashing', size);
  const hash = createHash('sha256');
  for await (const data of createReadStream(path, { highWaterMark: PUSH_MESSAGE_BYTES })) {
    hash.update(data as Buffer);
    progress.advance((data as Buffer).length);
  }
  return new Uint8Array(hash.digest());
}

/** Commander guarantees the flags are present; they must not be blank either. */
function checkNonEmpty(values: Readonly<Record<string, string>>): void {
  const blank = Object.entries(values).filter(([, value]) => value.trim() === '');
  if (blank.length > 0)
    throw usageError(`${blank.map(([flag]) => flag).join(', ')} must not be empty`);
}

/** Prints the pushed artifact after checking the center hashed the same bytes we did. */
function printPushed(
  io: CliIo,
  json: boolean,
  where: string,
  response: PushArtifactResponse,
  digestHex: string,
): void {
  const artifact = response.artifact;
  if (artifact === undefined)
    throw new CliError('INTERNAL', `${where} answered without the artifact`);
  if (artifact.contentDigest !== digestHex) {
    throw new CliError(
      'DATA_LOSS',
      `${where} stored content with digest ${artifact.contentDigest}, expected ${digestHex}`,
    );
  }
  const what = `${artifact.product} ${artifact.version} (${artifactKinds.label(artifact.kind)}, ${formatBytes(Number(artifact.size))})`;
  writeResult(io, json, {
    json: () => ({
      artifact: artifactJson(artifact),
      created: response.created,
      chunksStored: response.chunksStored,
      chunksReused: response.chunksReused,
    }),
    human: () => [
      artifact.id,
      `  ${response.created ? 'new artifact' : 'already present'} at ${where}: ${what}`,
      `  chunks: ${response.chunksStored} stored, ${response.chunksReused} reused`,
    ],
  });
}
