import { resolve } from 'node:path';
import type { ExportFormat } from '@vitrine/advisories';
import type { ExportFindingsRequest } from '@vitrine/proto/registry';
import { resolveArtifactId } from './artifact-ids.js';
import { usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { writeResult } from './output.js';
import { alreadyThere, exists, fileSink, type Sink, streamSink } from './output-file.js';
import { withRegistry } from './run-command.js';
import type { TargetOptions } from './target-options.js';
import { formatBytes } from './units.js';

/** The flags of `vitrine finding export`. */
export interface FindingExportOptions extends TargetOptions {
  readonly format: ExportFormat;
  readonly finding?: string | undefined;
  readonly artifact?: string | undefined;
  readonly product?: string | undefined;
  /** A path, or `-` (the default) for stdout. */
  readonly output?: string | undefined;
  readonly force?: boolean | undefined;
}

/**
 * Exports findings as an OSV, CSAF or SARIF document. The center streams it; it goes to
 * stdout, or to a file beside FILE moved into place only once complete (an existing FILE
 * is refused unless `--force`), so FILE never holds half a document.
 */
export async function exportFindings(io: CliIo, options: FindingExportOptions): Promise<void> {
  const json = options.json === true;
  const output = options.output ?? '-';
  const toStdout = output === '-';
  if (toStdout && json) {
    throw usageError('--json needs -o FILE (without it, stdout carries the document)');
  }
  const chosen = [options.finding, options.artifact, options.product].filter(
    (v) => v !== undefined,
  );
  if (chosen.length > 1) {
    throw usageError('give at most one of --finding, --artifact and --product');
  }
  const path = toStdout ? '-' : resolve(io.cwd, output);
  const replace = options.force === true;
  if (!toStdout && !replace && (await exists(path))) throw alreadyThere(path);
  const subject = options.finding !== undefined ? `finding ${options.finding}` : undefined;
  const bytes = await withRegistry(
    io,
    options,
    'read',
    async ({ client, target }) => {
      const selection: ExportFindingsRequest['selection'] =
        options.finding !== undefined
          ? { case: 'findingId', value: options.finding }
          : options.artifact !== undefined
            ? {
                case: 'artifactId',
                value: await resolveArtifactId(client, options.artifact, target.label),
              }
            : options.product !== undefined
              ? { case: 'product', value: options.product }
              : { case: undefined };
      let sink: Sink | undefined;
      let written = 0;
      try {
        for await (const res of client.exportFindings({ format: options.format, selection })) {
          // The file is created only once the center has answered.
          sink ??= toStdout ? streamSink(io.stdout) : await fileSink(path, replace);
          await sink.write(res.data);
          written += res.data.length;
        }
        sink ??= toStdout ? streamSink(io.stdout) : await fileSink(path, replace);
        await sink.commit();
        return written;
      } catch (err) {
        await sink?.discard();
        throw err;
      }
    },
    subject,
  );
  if (toStdout) return;
  writeResult(io, json, {
    json: () => ({ format: options.format, path, bytes }),
    human: () => [`wrote ${formatBytes(bytes)} of ${options.format} to ${path}`],
  });
}
