import { InvalidArgumentError } from '@vitrine/errors';
import { parseCvss } from './cvss.js';
import { byProduct, type ExportFinding, utc } from './finding.js';

/** The OSV schema version the records follow. */
export const OSV_SCHEMA_VERSION = '1.7.5';

/** A package in an OSV ecosystem, for products that are published in one. */
export interface OsvPackage {
  readonly ecosystem: string;
  readonly name: string;
  readonly purl?: string;
}

export interface OsvOptions {
  /**
   * Start of every id. OSV reserves `x_` for databases it does not aggregate, which
   * vitrine's is: the default `x_VITRINE-` makes `x_VITRINE-europe-17`.
   */
  readonly idPrefix?: string;
  /**
   * The OSV package of a product, when it is published in an OSV ecosystem (npm, Maven,
   * …). A vendor's own products are in none, so by default `affected` names the product
   * and its versions in `database_specific` only.
   */
  readonly packageOf?: (product: string) => OsvPackage | undefined;
}

/** An OSV record, as vitrine writes it. */
export interface OsvRecord {
  schema_version: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  related?: string[];
  summary: string;
  details: string;
  severity?: Array<{ type: 'CVSS_V3' | 'CVSS_V4'; score: string }>;
  affected: Array<{
    package?: OsvPackage;
    versions: string[];
    database_specific: {
      product: string;
      artifacts: string[];
      fixed?: { version: string; artifact: string };
    };
  }>;
  database_specific: Record<string, unknown>;
}

function prefixOf(options: OsvOptions): string {
  const prefix = options.idPrefix ?? 'x_VITRINE-';
  if (!prefix.startsWith('x_')) {
    throw new InvalidArgumentError('an OSV id prefix for a local database must start with x_', [
      { field: 'idPrefix', message: 'must start with x_' },
    ]);
  }
  return prefix;
}

/**
 * The OSV record of a finding. A rejected finding is `withdrawn`; a duplicate is withdrawn
 * and `related` to its original. Only `product` (when given) is listed as affected.
 */
export function toOsv(
  finding: ExportFinding,
  options: OsvOptions = {},
  product?: string,
): OsvRecord {
  const prefix = prefixOf(options);
  const affected = [...byProduct(finding.affected)]
    .filter(([name]) => product === undefined || name === product)
    .map(([name, artifacts]) => {
      const pkg = options.packageOf?.(name);
      const fix =
        finding.fix !== undefined && finding.fix.product === name ? finding.fix : undefined;
      return {
        ...(pkg !== undefined ? { package: pkg } : {}),
        versions: [...new Set(artifacts.map((a) => a.version))],
        database_specific: {
          product: name,
          artifacts: artifacts.map((a) => a.id),
          ...(fix !== undefined ? { fixed: { version: fix.version, artifact: fix.id } } : {}),
        },
      };
    });
  const cvss = finding.cvssVector !== undefined ? parseCvss(finding.cvssVector) : undefined;
  const ended = finding.status === 'rejected' || finding.status === 'duplicate';
  return {
    schema_version: OSV_SCHEMA_VERSION,
    id: `${prefix}${finding.id}`,
    modified: utc(finding.updatedAt),
    ...(finding.disclosedAt !== undefined ? { published: utc(finding.disclosedAt) } : {}),
    ...(ended ? { withdrawn: utc(finding.updatedAt) } : {}),
    ...(finding.aliases !== undefined && finding.aliases.length > 0
      ? { aliases: [...finding.aliases] }
      : {}),
    ...(finding.duplicateOf !== undefined ? { related: [`${prefix}${finding.duplicateOf}`] } : {}),
    summary: finding.title,
    details: finding.description === '' ? finding.title : finding.description,
    ...(cvss !== undefined
      ? {
          severity: [
            {
              type: cvss.version === '4.0' ? ('CVSS_V4' as const) : ('CVSS_V3' as const),
              score: cvss.vector,
            },
          ],
        }
      : {}),
    affected,
    database_specific: {
      finding: finding.id,
      origin: finding.origin,
      status: finding.status,
      severity: finding.severity,
      ...(cvss !== undefined ? { cvss_score: cvss.score } : {}),
      ...(finding.remediation !== undefined ? { remediation: finding.remediation } : {}),
      ...(finding.rule !== undefined
        ? { rule: { tool: finding.rule.tool, id: finding.rule.id } }
        : {}),
      ...(finding.locations !== undefined && finding.locations.length > 0
        ? { locations: finding.locations.map((l) => ({ ...l })) }
        : {}),
    },
  };
}

/**
 * The OSV records of a product: one per finding that names one of its artifacts, each
 * listing that product only. Takes findings as a stream and yields records as it goes.
 */
export async function* osvForProduct(
  findings: AsyncIterable<ExportFinding> | Iterable<ExportFinding>,
  product: string,
  options: OsvOptions = {},
): AsyncGenerator<OsvRecord> {
  prefixOf(options);
  for await (const finding of findings) {
    if (finding.affected.some((a) => a.product === product)) {
      yield toOsv(finding, options, product);
    }
  }
}
