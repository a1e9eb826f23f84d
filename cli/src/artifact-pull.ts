import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Artifact } from '@vitrine/proto/artifact';
import type { PullArtifactResponse } from '@vitrine/proto/registry';
import { resolveArtifactId } from './artifact-ids.js';
import { artifactJson } from './artifact-view.js';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
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

/** Errors of `link` meaning the file system has no hard links, rather than a refusal. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/** Where pulled bytes go: a file committed only once verified, or stdout. */
interface Sink {
  write(data: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  discard(): Promise<void>;
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

/**
 * Writes to a new file beside FILE (`wx`: never one that exists); commit fsyncs it, moves
 * it to FILE (see `moveIntoPlace`) and fsyncs the folder.
 */
async function fileSink(path: string, replace: boolean): Promise<Sink> {
  const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
  const handle = await open(partial, 'wx');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    write: (data) => writeFully(handle, data),
    async commit() {
      await handle.sync();
      await close();
      await moveIntoPlace(partial, path, replace);
      await syncFolder(dirname(path));
    },
    async discard() {
      await close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

/**
 * Moves the verified file to FILE. With `replace`, a rename (atomic, replacing FILE).
 * Without, a hard link, which fails if FILE appeared during the download, then unlinking
 * the partial name; on file systems without hard links, a check and a rename.
 */
async function moveIntoPlace(partial: string, path: string, replace: boolean): Promise<void> {
  if (replace) return rename(partial, path);
  try {
    await link(partial, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw alreadyThere(path);
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (await exists(path)) throw alreadyThere(path);
    return rename(partial, path);
  }
  await rm(partial);
}

/** Whether anything (file, folder, link) is at `path`. */
async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The usage error for an output file that is already there. */
function alreadyThere(path: string): CliError {
  return usageError(`${path} already exists; pass --force to replace it`);
}

/** FileHandle.write may write less than asked; loop until every byte is down. */
async function writeFully(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

/** Makes the rename durable; folders cannot be fsynced everywhere, which is not an error. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => undefined);
  if (handle === undefined) return;
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** Writes to stdout (`-o -`), waiting for each write so memory stays bounded. */
function streamSink(stream: Writable): Sink {
  return {
    write: (data) =>
      new Promise((done, fail) => {
        stream.write(data, (err) => (err ? fail(err) : done()));
      }),
    commit: async () => undefined,
    discard: async () => undefined,
  };
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
