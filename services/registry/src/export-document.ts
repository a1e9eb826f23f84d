import {
  type CsafOptions,
  type ExportFinding,
  type ExportFormat,
  toCsafAdvisory,
  toCsafVex,
  toOsv,
  writeSarif,
} from '@vitrine/advisories';
import { VitrineError } from '@vitrine/errors';

/** What an export document is about, for its titles, ids and refusals. */
export interface ExportSubject {
  /** The center writing it. */
  readonly centerId: string;
  /** One finding was asked for (not a listing). */
  readonly single: boolean;
  /** What was asked for, e.g. `finding europe-17`, `product router-os`. */
  readonly label: string;
  /** OSV records list only this product's versions. */
  readonly product?: string;
  readonly now: Date;
}

/**
 * The findings as one document of `format`, as text pieces. OSV and SARIF are written as
 * the findings arrive (one OSV record for one finding, else a JSON array of records); a
 * CSAF document's product tree names every product version, so it is built once all its
 * findings are read. A CSAF advisory holds disclosed findings only: asked for one finding
 * that is not, or a listing without any, it is FAILED_PRECONDITION; a listing's other
 * findings are left out (their status is what csaf-vex is for).
 */
export async function* exportDocument(
  format: ExportFormat,
  findings: AsyncIterable<ExportFinding>,
  subject: ExportSubject,
): AsyncGenerator<string> {
  switch (format) {
    case 'osv':
      yield* osvDocument(findings, subject);
      return;
    case 'sarif':
      yield* writeSarif(findings);
      return;
    case 'csaf':
    case 'csaf-vex':
      yield `${JSON.stringify(await csafDocument(format, findings, subject), null, 2)}\n`;
      return;
    default:
      throw new Error(`unhandled export format ${String(format satisfies never)}`);
  }
}

async function* osvDocument(
  findings: AsyncIterable<ExportFinding>,
  subject: ExportSubject,
): AsyncGenerator<string> {
  const record = (f: ExportFinding) => JSON.stringify(toOsv(f, {}, subject.product), null, 2);
  if (subject.single) {
    for await (const f of findings) yield `${record(f)}\n`;
    return;
  }
  let first = true;
  yield '[';
  for await (const f of findings) {
    yield `${first ? '' : ','}\n${record(f)}`;
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}

async function csafDocument(
  format: 'csaf' | 'csaf-vex',
  findings: AsyncIterable<ExportFinding>,
  subject: ExportSubject,
): Promise<Record<string, unknown>> {
  const all: ExportFinding[] = [];
  for await (const f of findings) all.push(f);
  const options = csafOptions(format, all, subject);
  if (format === 'csaf') {
    const disclosed = subject.single ? all : all.filter((f) => f.status === 'disclosed');
    if (disclosed.length === 0) {
      throw new VitrineError(
        'failed_precondition',
        `no disclosed finding in ${subject.label}: a security advisory publishes disclosed findings only (export csaf-vex for the status of the others)`,
      );
    }
    return toCsafAdvisory(disclosed, options);
  }
  if (!all.some((f) => f.status !== 'duplicate')) {
    throw new VitrineError(
      'failed_precondition',
      `no finding in ${subject.label} to state a status for (a duplicate's status is its original's: export that one)`,
    );
  }
  return toCsafVex(all, options);
}

/** Publisher, tracking id and title of a CSAF document written by this center. */
function csafOptions(
  format: 'csaf' | 'csaf-vex',
  findings: readonly ExportFinding[],
  subject: ExportSubject,
): CsafOptions {
  const stamp = subject.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const only = subject.single ? findings[0] : undefined;
  return {
    publisher: { name: 'vitrine', namespace: `urn:vitrine:${subject.centerId}` },
    trackingId:
      only !== undefined
        ? `VITRINE-${only.id}${format === 'csaf-vex' ? '-VEX' : ''}`
        : `VITRINE-${subject.centerId}-${format === 'csaf' ? 'ADVISORY' : 'VEX'}-${stamp}`,
    title:
      only !== undefined
        ? only.title
        : `vitrine ${format === 'csaf' ? 'advisory' : 'status'}: ${subject.label}`,
    now: subject.now,
  };
}
