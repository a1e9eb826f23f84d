/**
 * Replication into a center keeping chunks in S3 beside one keeping them in local pack
 * files, in one run: a new artifact published at europe is timed until it is available at
 * asia (local packs) and at us (a bucket of a real Ceph RADOS Gateway on loopback, started
 * for the run), both receiving the same bytes at the same time from the same origin.
 * Prints the median of each, their ratio (S3 speed as a share of local packs) and the load
 * average.
 *
 *   npx tsx bench/s3-replication.ts [--size MiB=64] [--runs N=3] [--in-flight N=16] [--keep]
 *
 * The gateway needs Debian's ceph-mon, ceph-osd and radosgw (installed when missing, as root).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ArtifactState } from '@vitrine/proto/artifact';
import { testGateway } from '@vitrine/testing';
import { formatTable } from '../cli/src/text-table.js';
import { BenchFederation, type CenterId } from './bench-federation.js';
import { writeRandomFile } from './bench-files.js';
import { median, waitFor } from './measure.js';
import { publish, seconds, times, unlessNotFound } from './replication-bench.js';

const MIB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
  },
});
const sizeMiB = Number(values.size);
const runs = Number(values.runs);

/** Milliseconds until `id` is available (every byte held and verified) at `center`. */
function availableAt(federation: BenchFederation, center: CenterId, id: string): Promise<number> {
  return waitFor(async () => {
    const got = await unlessNotFound(federation.center(center).registry.getArtifact({ id }));
    return got?.artifact?.state === ArtifactState.AVAILABLE;
  }, 50);
}

const home = await mkdtemp(join(tmpdir(), 'vitrine-bench-s3-'));
const gateway = await testGateway();
const bucket = await gateway.bucket();
const credentialsFile = join(home, 's3-key.json');
await writeFile(credentialsFile, JSON.stringify(gateway.credentials), { mode: 0o600 });
const federation = await BenchFederation.start({
  home,
  databaseUrl: process.env.VITRINE_DATABASE_URL,
  chunkStores: {
    us: {
      kind: 's3',
      endpoint: gateway.endpoint,
      bucket,
      credentialsFile,
      maxInFlight: Number(values['in-flight']),
    },
  },
});
const local: number[] = [];
const s3: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    const file = join(home, `artifact-${run}.bin`);
    await writeRandomFile(file, sizeMiB * MIB, `s3-bench-${run}`);
    const start = performance.now();
    const published = await publish(federation, file, { version: `1.${run}` });
    const pushed = performance.now() - start;
    const [asia, us] = await Promise.all([
      availableAt(federation, 'asia', published.id),
      availableAt(federation, 'us', published.id),
    ]);
    local.push(pushed + asia);
    s3.push(pushed + us);
    await rm(file);
  }
} finally {
  await federation.close();
  if (!values.keep) await rm(home, { recursive: true, force: true });
}

const [l, s] = [median(local), median(s3)];
const mbps = (ms: number) => `${((sizeMiB * MIB) / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
console.log(
  `Replication of a new ${sizeMiB} MiB artifact from europe, until available (medians of ${runs}, ${federation.storageKind}):\n`,
);
console.log(
  formatTable(
    ['receiver', 'chunk store', 'time', 'throughput'],
    [
      ['asia', 'local packs', seconds(l), mbps(l)],
      ['us', `S3 (Ceph RGW, ${values['in-flight']} in flight)`, seconds(s), mbps(s)],
    ],
  ).join('\n'),
);
console.log(`\nS3 speed / local packs speed: ${times(l / s)} (goal ≥ 0.50×)`);
console.log(`runs, local: ${local.map(seconds).join(', ')}; S3: ${s3.map(seconds).join(', ')}`);
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
