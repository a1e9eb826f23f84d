import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readSarif, type SarifBaselineState, type Severity } from '@vitrine/advisories';
import { VitrineError } from '@vitrine/errors';

/** One SARIF result, reduced to what a finding keeps (one JSON line of the spool). */
export interface ImportRecord {
  readonly fingerprint: string;
  readonly tool: string;
  readonly ruleId: string;
  readonly message: string;
  readonly locations: readonly { path: string; startLine?: number; endLine?: number }[];
  readonly severity: Severity;
  readonly baselineState?: SarifBaselineState;
  readonly suppressed: boolean;
}

/** The results of a SARIF file, validated whole and kept on disk until the import ends. */
export interface SarifSpool {
  readonly results: number;
  readonly bytes: number;
  /** The records in file order, read back from disk. */
  records(): AsyncIterable<ImportRecord>;
  remove(): Promise<void>;
}

/**
 * Reads a SARIF file as it streams in (`readSarif`: every result checked against the
 * official schema), and writes each result's record to a file under `dir`. The file is only
 * known valid at its end, so nothing is imported before then; spooling keeps memory bounded
 * whatever the number of results. Over `maxBytes` is resource_exhausted; an invalid file is
 * invalid_argument naming the JSON path and the schema rule.
 */
export async function spoolSarif(
  bytes: AsyncIterable<Uint8Array>,
  dir: string,
  maxBytes: number,
): Promise<SarifSpool> {
  await mkdir(dir, { recursive: true });
  const folder = await mkdtemp(join(dir, 'import-'));
  const path = join(folder, 'results.ndjson');
  const remove = () => rm(folder, { recursive: true, force: true });
  const out = createWriteStream(path);
  try {
    let size = 0;
    const counted = async function* () {
      for await (const piece of bytes) {
        size += piece.length;
        if (size > maxBytes) {
          throw new VitrineError(
            'resource_exhausted',
            `the SARIF file exceeds this center's import limit of ${maxBytes} bytes`,
          );
        }
        yield piece;
      }
    };
    let results = 0;
    for await (const r of readSarif(counted(), { maxBytes })) {
      const record: ImportRecord = {
        fingerprint: r.fingerprint,
        tool: r.run.tool.name,
        ruleId: r.ruleId,
        message: r.message,
        locations: r.locations,
        severity: r.severity,
        ...(r.baselineState !== undefined && { baselineState: r.baselineState }),
        suppressed: r.suppressed,
      };
      results++;
      if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    return { results, bytes: size, records: () => readRecords(path), remove };
  } catch (err) {
    out.destroy();
    await remove();
    throw err;
  }
}

async function* readRecords(path: string): AsyncIterable<ImportRecord> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) yield JSON.parse(line) as ImportRecord;
}
