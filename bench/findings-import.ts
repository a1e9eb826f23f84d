/**
 * SARIF import into findings, end to end: a generated SARIF 2.1.0 log of `results` results
 * (default 25,000; bench/sarif-files.ts) imported at europe through ImportFindings, in a
 * federation of three `vitrine serve center` processes (bench-federation.ts), beside the
 * baseline measured in the same run: a raw batched insert of the same number of findings'
 * rows into a fresh database of the same kind (raw-finding-insert.ts). Prints the import's
 * time and rate against the raw rate, the time until asia and us hold every imported
 * finding against the import time, europe's peak resident memory (VmHWM) during the import,
 * and the load average.
 *
 *   npx tsx bench/findings-import.ts [results=25000]
 *
 * VITRINE_DATABASE_URL=postgres://… runs the centers on that PostgreSQL server (a fresh
 * database, dropped afterwards) instead of PGlite. Run `node scripts/build.mjs` first: the
 * centers run the built command.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable } from '../cli/src/text-table.js';
import { BenchFederation } from './bench-federation.js';
import { writeRandomFile } from './bench-files.js';
import { waitFor } from './measure.js';
import { peakRssMiB, resetPeakRss, rssMiB } from './process-stats.js';
import { rawFindingInsert } from './raw-finding-insert.js';
import {
  ORIGIN,
  publish,
  RECEIVERS,
  seconds,
  times,
  unlessNotFound,
  untilAvailable,
} from './replication-bench.js';
import { generateSarif } from './sarif-files.js';

const [results = 25_000] = process.argv.slice(2).map(Number);

/** Bytes per data message: the registry's limit. */
const MESSAGE_BYTES = 1024 * 1024;

async function* importRequests(artifactId: string, file: string) {
  yield { part: { case: 'start' as const, value: { artifactId } } };
  for await (const data of createReadStream(file, { highWaterMark: MESSAGE_BYTES })) {
    yield { part: { case: 'data' as const, value: data as Buffer } };
  }
}

async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'vitrine-findings-import-'));
  const sarif = join(home, 'scan.sarif');
  await generateSarif(sarif, results);
  const federation = await BenchFederation.start({
    home: join(home, 'federation'),
    databaseUrl: process.env.VITRINE_DATABASE_URL,
  });
  try {
    const origin = federation.center(ORIGIN);
    const content = join(home, 'artifact.bin');
    await writeRandomFile(content, 1024 * 1024, 'findings-import');
    const { id } = await publish(federation, content, { version: 'scanned' });
    await untilAvailable(federation, id);
    const size = (await stat(sarif)).size;
    console.log(
      `SARIF import into findings, ${new Date().toISOString()}, centers on ${federation.storageKind}: ${results} results, ${(size / 2 ** 20).toFixed(1)} MiB; load average ${await loadAverage()}`,
    );

    // The peak is of the whole center: what it held before the import is reported beside it.
    const before = await rssMiB(origin.pid);
    await resetPeakRss(origin.pid);
    const start = performance.now();
    const outcome = await origin.registry.importFindings(importRequests(id, sarif));
    const importMs = performance.now() - start;
    const peak = await peakRssMiB(origin.pid);
    if (outcome.created !== results) {
      throw new Error(`the import created ${outcome.created} findings, expected ${results}`);
    }
    const { findings } = await origin.registry.listFindings({ artifactId: id, pageSize: 1 });
    const last = findings[0]?.id ?? '';
    // Events apply in origin order: a peer holding the last finding holds them all.
    await waitFor(async () => {
      for (const center of RECEIVERS) {
        const got = await unlessNotFound(
          federation.center(center).registry.getFinding({ id: last }),
        );
        if (got === undefined) return false;
      }
      return true;
    }, 50);
    const everywhereMs = performance.now() - start;
    const again = performance.now();
    const repeat = await origin.registry.importFindings(importRequests(id, sarif));
    const againMs = performance.now() - again;

    const rawMs = await rawFindingInsert(
      await federation.scratchDatabase('raw_insert'),
      results,
      id,
    );
    const rate = (ms: number) => `${Math.round(results / (ms / 1000))}/s`;
    const rows = [
      ['raw batched insert of the same rows (baseline)', seconds(rawMs), rate(rawMs), times(1)],
      [
        'ImportFindings at europe (validated, keyed, signed)',
        seconds(importMs),
        rate(importMs),
        times(rawMs / importMs),
      ],
      [
        '… until asia and us hold every finding',
        seconds(everywhereMs),
        rate(everywhereMs),
        `${(everywhereMs / importMs).toFixed(2)}× the import`,
      ],
      [`the same file again (${repeat.events} events)`, seconds(againMs), rate(againMs), ''],
    ];
    for (const line of formatTable(['', 'time', 'results/s', 'rate vs raw'], rows)) {
      console.log(`  ${line}`);
    }
    console.log(
      `  peak RSS of europe during the import: ${peak.toFixed(0)} MiB (${before.toFixed(0)} MiB as it began); load average after: ${await loadAverage()}`,
    );
  } finally {
    await federation.close();
    await rm(home, { recursive: true, force: true });
  }
}

await main();
