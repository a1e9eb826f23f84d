/**
 * SARIF 2.1.0 logs for import tests, built from the parts the specification defines
 * (OASIS SARIF 2.1.0 §3.13 sarifLog, §3.14 run, §3.27 result): small enough to read in a
 * test, valid against the official schema unless a test breaks them on purpose.
 */

/** One result: rule, message, where, and how it is identified across scans. */
export interface TestResult {
  readonly rule: string;
  readonly message?: string;
  readonly path?: string;
  readonly line?: number;
  readonly level?: 'none' | 'note' | 'warning' | 'error';
  /** `partialFingerprints.primaryLocationLineHash`; none: the fallback key applies. */
  readonly hash?: string;
  readonly baselineState?: 'new' | 'unchanged' | 'updated' | 'absent';
}

/** The rules of the test scanner: `rule-critical` carries a security-severity of 9.1. */
const RULES = [
  { id: 'rule-critical', properties: { 'security-severity': '9.1' } },
  { id: 'rule-plain' },
];

/** A SARIF log of one run of `tool` with these results, as JSON text. */
export function sarifLog(results: readonly TestResult[], tool = 'TestScanner'): string {
  return JSON.stringify({
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: tool, version: '1.0', rules: RULES } },
        results: results.map(resultOf),
      },
    ],
  });
}

function resultOf(r: TestResult): object {
  const line = r.line ?? 1;
  return {
    ruleId: r.rule,
    level: r.level ?? 'warning',
    message: { text: r.message ?? `${r.rule} found here` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: r.path ?? 'src/main.c' },
          region: { startLine: line, endLine: line + 1 },
        },
      },
    ],
    ...(r.hash !== undefined && { partialFingerprints: { primaryLocationLineHash: r.hash } }),
    ...(r.baselineState !== undefined && { baselineState: r.baselineState }),
  };
}

/** Messages of an import: the start, then the file in pieces of at most `piece` bytes. */
export async function* importOf(artifactId: string, file: string | Uint8Array, piece = 64 * 1024) {
  yield { part: { case: 'start' as const, value: { artifactId } } };
  const bytes = typeof file === 'string' ? new TextEncoder().encode(file) : file;
  for (let at = 0; at < bytes.length; at += piece) {
    yield { part: { case: 'data' as const, value: bytes.subarray(at, at + piece) } };
  }
}
