/** Generated SARIF logs for the import benchmarks (bench/sarif-import.ts, bench/findings-import.ts). */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const RULES = 40;

/** Result `i`: its rule, level, location and fingerprint vary with `i`. */
function result(i: number): unknown {
  const rule = i % RULES;
  const line = 1 + (i % 900);
  const location = (path: string, startLine: number) => ({
    physicalLocation: {
      artifactLocation: { uri: path, uriBaseId: '%SRCROOT%' },
      region: { startLine, startColumn: 5, endLine: startLine + 2, endColumn: 17 },
    },
  });
  return {
    ruleId: `bench/rule-${rule}`,
    ruleIndex: rule,
    level: ['error', 'warning', 'note'][i % 3],
    message: {
      text: `Value from ${'request parameter'} reaches a sink without validation (case ${i}).`,
    },
    locations: [location(`src/module-${i % 250}/file-${i % 37}.c`, line)],
    partialFingerprints: {
      primaryLocationLineHash: `${((i * 2654435761) % 2 ** 32).toString(16).padStart(8, '0')}a1b2c3d4:1`,
    },
    ...(i % 10 === 0
      ? {
          codeFlows: [
            {
              threadFlows: [
                {
                  locations: [1, 2, 3].map((step) => ({
                    location: {
                      ...location(`src/module-${i % 250}/file-${i % 37}.c`, line + step),
                      message: { text: `step ${step}` },
                    },
                  })),
                },
              ],
            },
          ],
        }
      : {}),
    properties: { tags: ['security', 'external/cwe/cwe-20'], precision: 'high' },
  };
}

/**
 * Writes a SARIF 2.1.0 log of `results` results to `file` (its folder created): about 1 KiB
 * each, 40 rules with security-severity, partial fingerprints, code flows on one in ten.
 */
export async function generateSarif(file: URL | string, results: number): Promise<void> {
  await mkdir(dirname(typeof file === 'string' ? file : fileURLToPath(file)), { recursive: true });
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const rules = Array.from({ length: RULES }, (_, r) => ({
    id: `bench/rule-${r}`,
    name: `BenchRule${r}`,
    shortDescription: { text: `Rule ${r}` },
    fullDescription: { text: `Checks for unvalidated input reaching sink ${r}.` },
    help: {
      text: 'Validate the value before use.',
      markdown: 'Validate the value **before** use.',
    },
    defaultConfiguration: { level: 'warning' },
    properties: { 'security-severity': (r % 10).toFixed(1) },
  }));
  const tool = { driver: { name: 'BenchScanner', version: '1.0.0', rules } };
  await write(`{"version":"2.1.0","runs":[{"tool":${JSON.stringify(tool)},"results":[`);
  for (let i = 0; i < results; i++) await write(`${i ? ',' : ''}\n${JSON.stringify(result(i))}`);
  await write('\n]}]}\n');
  out.end();
  await once(out, 'close');
}
