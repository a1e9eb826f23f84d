/**
 * SARIF import figures: a generated SARIF 2.1.0 log of `results` results (default 25,000,
 * about 1 KiB each, 40 rules, partial fingerprints, code flows on one result in ten) read
 * by `readSarif` (streamed: parsed, every result checked against the official schema and
 * normalised), beside two baselines in the same run on the same file:
 *
 * - `JSON.parse`: the whole file read into memory and parsed, nothing checked;
 * - `JSON.parse + ajv`: the same, then the whole log checked against the official schema.
 *
 * Prints the median of `runs` runs of each, results per second, the ratio to each baseline
 * and each one's peak resident memory (reset between them). The SARIF schema is compiled
 * before timing, as a service does at start-up.
 *
 *   npx tsx bench/sarif-import.ts [results=25000] [runs=3]
 */

import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { prepareSarifReader, readSarif } from '@vitrine/advisories';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { median } from './measure.js';
import { peakRssMiB, resetPeakRss } from './process-stats.js';
import { generateSarif } from './sarif-files.js';

const [results = 25_000, runs = 3] = process.argv.slice(2).map(Number);
const file = new URL(`./.data/sarif-${results}.sarif`, import.meta.url);

async function measure(name: string, body: () => Promise<number>) {
  const times: number[] = [];
  await resetPeakRss(process.pid);
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    const start = performance.now();
    const count = await body();
    times.push(performance.now() - start);
    if (count !== results) throw new Error(`${name}: ${count} results, expected ${results}`);
  }
  const ms = median(times);
  return { name, ms, rate: (results / ms) * 1000, peak: await peakRssMiB(process.pid) };
}

await generateSarif(file, results);
const bytes = (await stat(file)).size;
console.log(
  `SARIF import: ${results} results, ${(bytes / 2 ** 20).toFixed(1)} MiB, median of ${runs} runs (machine shared and loaded: compare ratios, not absolute figures)`,
);

const schema = JSON.parse(
  await readFile(
    new URL('../libs/advisories/src/schemas/sarif-schema-2.1.0.json', import.meta.url),
    'utf8',
  ),
);
const ajv = new AjvDraft04.default({ strict: false });
addFormats.default(ajv);
const validateWhole = ajv.compile(schema);

// A service compiles the schema once, at start-up; so does the bench, before timing.
prepareSarifReader();
const streamed = await measure('readSarif (streamed, validated, normalised)', async () => {
  let n = 0;
  for await (const _ of readSarif(createReadStream(file, { highWaterMark: 256 * 1024 }))) n++;
  return n;
});
const parse = await measure('JSON.parse whole file (no checks)', async () => {
  const log = JSON.parse(await readFile(file, 'utf8'));
  return log.runs[0].results.length;
});
const parseValidate = await measure('JSON.parse + ajv whole log', async () => {
  const log = JSON.parse(await readFile(file, 'utf8')) as { runs: Array<{ results: unknown[] }> };
  if (!validateWhole(log)) throw new Error('generated log is not valid SARIF');
  return log.runs[0].results.length;
});

for (const r of [streamed, parse, parseValidate]) {
  console.log(
    `  ${r.name.padEnd(46)} ${r.ms.toFixed(0).padStart(7)} ms  ${r.rate.toFixed(0).padStart(8)} results/s  peak RSS ${r.peak.toFixed(0)} MiB`,
  );
}
console.log(
  `  readSarif / JSON.parse rate: ${(streamed.rate / parse.rate).toFixed(2)}; readSarif / JSON.parse + ajv rate: ${(streamed.rate / parseValidate.rate).toFixed(2)}`,
);
