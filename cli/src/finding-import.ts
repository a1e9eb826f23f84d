import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  type ImportFindingsRequest,
  ImportFindingsRequestSchema,
  type ImportFindingsResponse,
} from '@vitrine/proto/registry';
import { resolveArtifactId } from './artifact-ids.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
import { regularFileSize } from './readable-file.js';
import { withRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';
import { createTransferProgress, type TransferProgress } from './transfer-progress.js';

/** The flags of `vitrine finding import`. */
export interface FindingImportOptions extends TargetOptions {
  readonly artifact: string;
}

/** Bytes per data message, the registry's limit; also the read size, so memory stays flat. */
const IMPORT_MESSAGE_BYTES = 1024 * 1024;

/**
 * Imports a SARIF file's results as findings on an artifact: the file streams to the center
 * in 1 MiB messages (a progress bar on a terminal), which records all of it or nothing.
 */
export async function importFindings(
  io: CliIo,
  file: string,
  options: FindingImportOptions,
): Promise<void> {
  const path = resolve(io.cwd, file);
  const size = await regularFileSize(path, file);
  const json = options.json === true;
  const progress = createTransferProgress(io, json);
  try {
    const { where, response } = await withRegistry(
      io,
      options,
      'write',
      async ({ client, target }) => {
        const artifactId = await resolveArtifactId(client, options.artifact, target.label);
        progress.start('sending', size);
        const response = await client.importFindings(importRequests(path, artifactId, progress));
        return { where: target.label, response };
      },
    );
    progress.stop();
    printImported(io, json, where, response);
  } finally {
    progress.stop();
  }
}

/** The start naming the artifact, then the file in messages of at most 1 MiB. */
async function* importRequests(
  path: string,
  artifactId: string,
  progress: TransferProgress,
): AsyncGenerator<ImportFindingsRequest> {
  yield create(ImportFindingsRequestSchema, { part: { case: 'start', value: { artifactId } } });
  for await (const data of createReadStream(path, { highWaterMark: IMPORT_MESSAGE_BYTES })) {
    const bytes = data as Buffer;
    progress.advance(bytes.length);
    yield create(ImportFindingsRequestSchema, { part: { case: 'data', value: bytes } });
  }
}

function printImported(io: CliIo, json: boolean, where: string, r: ImportFindingsResponse): void {
  const counts = {
    results: r.results,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    candidateFixes: r.candidateFixes,
    skipped: r.skipped,
    events: r.events,
  };
  writeResult(io, json, {
    json: () => counts,
    human: () => [
      `imported ${r.results} results at ${where}: ${r.created} new findings, ${r.updated} updated, ${r.unchanged} unchanged`,
      `  ${r.candidateFixes} findings no longer reported (candidate fixes), ${r.skipped} results skipped (suppressed or absent)`,
    ],
  });
}
