/**
 * ExportFindings against the listing it reads from, in one run. One registry (in this
 * process, on the chosen backend) holds `count` findings on three artifacts of a product;
 * each round exports every finding as SARIF and as OSV over gRPC and, as the baseline,
 * pages through the same findings with ListFindings (1,000 a page). Rates are medians over
 * rounds; the ratio is the export's time over the listing's in the same round. The heap
 * in use after each export shows that the document is not held whole.
 *
 *   npx tsx bench/finding-export.ts [count=2000] [rounds=5] [pglite|postgres]
 */
import { availableParallelism, loadavg } from 'node:os';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { RegistryService } from '@vitrine/proto/registry';
import { seedTrustSnapshot, startRegistry } from '@vitrine/registry';
import { createGrpcClient, createLogger } from '@vitrine/rpc';
import { startTestTrust, tempDir, testBackends } from '@vitrine/testing';
import { median } from './measure.js';

const [count = 2000, rounds = 5] = process.argv.slice(2, 4).map(Number);
const backend = testBackends().find((b) => b.name === (process.argv[4] ?? 'pglite'));
if (!backend) throw new Error(`no ${process.argv[4]} backend (is PostgreSQL running?)`);

const dir = await tempDir('vitrine-bench-export-');
const database = await backend.open();
const trust = await startTestTrust(['bench']);
await seedTrustSnapshot(dir.path, trust.signed());
const registry = await startRegistry(
  {
    center: { id: 'bench', jurisdiction: 'EU' },
    jurisdictions: ['EU'],
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: dir.path,
    access: { url: trust.url, trustKey: trust.trustKey },
    ...(database.url ? { databaseUrl: database.url } : {}),
  },
  { logger: createLogger('bench', { VITRINE_LOG_LEVEL: 'error' }) },
);
const client = createGrpcClient(RegistryService, registry.url, {
  interceptors: [trust.operatorAuth('bench')],
});

try {
  const artifactIds: string[] = [];
  for (const version of ['1.0', '1.1', '1.2']) {
    async function* upload() {
      const value = { kind: ArtifactKind.SOURCE, product: 'router-os', version, residency: [] };
      yield { part: { case: 'metadata' as const, value } };
      yield { part: { case: 'data' as const, value: new TextEncoder().encode(version) } };
    }
    artifactIds.push((await client.pushArtifact(upload())).artifact?.id ?? '');
  }
  for (let i = 0; i < count; i++) {
    await client.createFinding({
      artifactIds: [artifactIds[i % 3] ?? ''],
      title: `Finding ${i}`,
      description: 'Found in review. '.repeat(20),
      severity: Severity.MEDIUM,
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N',
    });
  }

  const exportMs = async (format: string) => {
    const start = performance.now();
    let bytes = 0;
    for await (const res of client.exportFindings({ format })) bytes += res.data.length;
    return { ms: performance.now() - start, bytes, heap: process.memoryUsage().heapUsed };
  };
  const listMs = async () => {
    const start = performance.now();
    let pageToken = '';
    let seen = 0;
    do {
      const page = await client.listFindings({ pageSize: 1000, pageToken });
      seen += page.findings.length;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    if (seen !== count) throw new Error(`listed ${seen} of ${count}`);
    return performance.now() - start;
  };

  const rows: Record<string, number[]> = {
    list: [],
    sarif: [],
    osv: [],
    sarifRatio: [],
    osvRatio: [],
  };
  let sizes = { sarif: 0, osv: 0 };
  let heap = 0;
  for (let round = 0; round < rounds; round++) {
    const list = await listMs();
    const sarif = await exportMs('sarif');
    const osv = await exportMs('osv');
    rows.list?.push(list);
    rows.sarif?.push(sarif.ms);
    rows.osv?.push(osv.ms);
    rows.sarifRatio?.push(sarif.ms / list);
    rows.osvRatio?.push(osv.ms / list);
    sizes = { sarif: sarif.bytes, osv: osv.bytes };
    heap = Math.max(heap, sarif.heap, osv.heap);
  }
  const rate = (ms: number) => Math.round((count / ms) * 1000);
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(`finding export, ${count} findings, ${rounds} rounds, ${backend.name}`);
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${availableParallelism()} cores`,
  );
  console.log(
    `ListFindings (baseline)  median ${median(rows.list ?? []).toFixed(0)} ms  ${rate(median(rows.list ?? []))} findings/s`,
  );
  for (const format of ['sarif', 'osv'] as const) {
    const ms = median(rows[format] ?? []);
    const ratio = median(rows[`${format}Ratio`] ?? []);
    console.log(
      `ExportFindings ${format.padEnd(5)}    median ${ms.toFixed(0)} ms  ${rate(ms)} findings/s  ${mib(sizes[format])} MiB  ×${ratio.toFixed(2)} of the listing`,
    );
  }
  console.log(`heap in use after an export (max) ${mib(heap)} MiB`);
} finally {
  await registry.stop();
  await trust.close();
  await database.cleanup();
  await dir.cleanup();
}
