import type { Severity } from './cvss.js';
import { parseCvss } from './cvss.js';
import type { ExportFinding, FindingRule } from './finding.js';

export interface SarifExportOptions {
  /** The driver's version, e.g. vitrine's release. */
  readonly toolVersion?: string;
  readonly informationUri?: string;
  /**
   * The rules the findings refer to, written to the driver before any result so a reader
   * can stream the log; results name them by id and index. A finding whose rule is not
   * listed names its rule id only; a finding without a rule is reported under the rule
   * `vitrine/finding`.
   */
  readonly rules?: readonly FindingRule[];
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note' | 'none'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'none',
};

/** The rule under which findings typed in by hand are reported. */
export const MANUAL_RULE = 'vitrine/finding';

/**
 * Writes findings as a SARIF 2.1.0 log with one run whose tool is vitrine, as a stream of
 * text chunks: findings are read one at a time and written as they come, so the log can
 * be as long as the store. Each result carries the finding's id, status, severity and
 * CVSS (in `properties`), its locations and its import fingerprint.
 */
export async function* writeSarif(
  findings: AsyncIterable<ExportFinding> | Iterable<ExportFinding>,
  options: SarifExportOptions = {},
): AsyncGenerator<string> {
  const rules = [...(options.rules ?? [])];
  const manual = {
    id: MANUAL_RULE,
    name: 'VitrineFinding',
    description: 'A finding recorded in vitrine.',
  };
  const ruleIndex = new Map<string, number>();
  const driverRules = [...rules, manual].map((rule, i) => {
    const key = ruleKey(rule.id, 'tool' in rule ? rule.tool : undefined);
    if (!ruleIndex.has(key)) ruleIndex.set(key, i);
    return {
      id: rule.id,
      ...(rule.name !== undefined ? { name: rule.name } : {}),
      ...(rule.description !== undefined ? { shortDescription: { text: rule.description } } : {}),
      ...('help' in rule && rule.help !== undefined ? { help: { text: rule.help } } : {}),
      ...('helpUri' in rule && rule.helpUri !== undefined ? { helpUri: rule.helpUri } : {}),
      ...('tool' in rule ? { properties: { tool: rule.tool } } : {}),
    };
  });
  const driver = {
    name: 'vitrine',
    ...(options.toolVersion !== undefined ? { version: options.toolVersion } : {}),
    ...(options.informationUri !== undefined ? { informationUri: options.informationUri } : {}),
    rules: driverRules,
  };
  const head = JSON.stringify({
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
  });
  yield `${head.slice(0, -1)},"runs":[{"tool":${JSON.stringify({ driver })},"results":[`;
  let first = true;
  for await (const finding of findings) {
    const result = toResult(finding, ruleIndex);
    yield `${first ? '' : ','}\n${JSON.stringify(result)}`;
    first = false;
  }
  yield '\n]}]}\n';
}

function ruleKey(id: string, tool: string | undefined): string {
  return JSON.stringify([tool ?? '', id]);
}

function toResult(finding: ExportFinding, ruleIndex: Map<string, number>): Record<string, unknown> {
  const ruleId = finding.rule?.id ?? MANUAL_RULE;
  const index =
    finding.rule !== undefined
      ? ruleIndex.get(ruleKey(finding.rule.id, finding.rule.tool))
      : ruleIndex.get(ruleKey(MANUAL_RULE, undefined));
  const cvss = finding.cvssVector !== undefined ? parseCvss(finding.cvssVector) : undefined;
  const text =
    finding.description === '' ? finding.title : `${finding.title}\n\n${finding.description}`;
  const locations = (finding.locations ?? []).map((l) => ({
    physicalLocation: {
      artifactLocation: { uri: encodeURI(l.path) },
      ...(l.startLine !== undefined
        ? {
            region: {
              startLine: l.startLine,
              ...(l.endLine !== undefined ? { endLine: l.endLine } : {}),
            },
          }
        : {}),
    },
    ...(l.artifactId !== undefined ? { properties: { artifactId: l.artifactId } } : {}),
  }));
  const suppressed = finding.status === 'rejected' || finding.status === 'duplicate';
  return {
    ruleId,
    ...(index !== undefined ? { ruleIndex: index } : {}),
    level: LEVEL[finding.severity],
    message: { text },
    ...(locations.length > 0 ? { locations } : {}),
    ...(finding.fingerprint !== undefined
      ? { partialFingerprints: { 'vitrine/import/v1': finding.fingerprint } }
      : {}),
    ...(suppressed
      ? {
          suppressions: [
            {
              kind: 'external',
              status: 'accepted',
              justification: `vitrine finding ${finding.status}`,
            },
          ],
        }
      : {}),
    properties: {
      vitrineId: finding.id,
      origin: finding.origin,
      status: finding.status,
      severity: finding.severity,
      artifacts: finding.affected.map((a) => a.id),
      ...(finding.fix !== undefined ? { fixArtifact: finding.fix.id } : {}),
      ...(cvss !== undefined
        ? {
            cvssVector: cvss.vector,
            cvssScore: cvss.score,
          }
        : {}),
    },
  };
}
