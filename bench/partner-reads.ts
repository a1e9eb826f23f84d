/**
 * Partner reads under load at one center, beside the same reads with enforcement off, in one
 * run. `clients` partners, each with its own credential, key and HTTP/2 connection, call
 * GetArtifact in a loop; every call is verified (PASETO signature, proof of possession,
 * scope) and recorded as an AccessUsed event. The same number of unauthenticated clients
 * then read from a registry in access mode `open` on the same backend. Each registry runs in
 * a process of its own (`vitrine serve registry`); this process only generates load.
 *
 * Rounds alternate (open, enforced) on a shared, noisy machine; rates are medians over
 * rounds, latencies are percentiles over every call of a mode, and the ratio is the median
 * of each enforced round over the open round beside it. At the end the AccessUsed events in
 * the enforced center's log are counted against the reads that succeeded.
 *
 *   npx tsx bench/partner-reads.ts [seconds-per-round=10] [clients=200] [rounds=3] [pglite|postgres]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '@connectrpc/connect';
import { callAuthInterceptor } from '@vitrine/credentials';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { RegistryService } from '@vitrine/proto/registry';
import { seedTrustSnapshot } from '@vitrine/registry';
import { createGrpcClientTransport } from '@vitrine/rpc';
import { openDatabase } from '@vitrine/storage';
import { startTestTrust, type TestDatabase, tempDir, testBackends } from '@vitrine/testing';
import { sql } from 'kysely';
import { median, percentile } from './measure.js';
import { cpuSeconds } from './process-stats.js';

const [seconds = 10, clients = 200, rounds = 3] = process.argv.slice(2, 5).map(Number);
const backend = testBackends().find((b) => b.name === (process.argv[5] ?? 'pglite'));
if (!backend) throw new Error(`no ${process.argv[5]} backend (is PostgreSQL running?)`);
const VITRINE = fileURLToPath(new URL('../bin/vitrine.js', import.meta.url));

type Registry = Client<typeof RegistryService>;

/** Starts `vitrine serve registry` with `access`; resolves with its URL and process. */
async function serve(home: string, database: TestDatabase, access: object) {
  const config = join(home, 'registry.json');
  await mkdir(home, { recursive: true });
  await writeFile(
    config,
    JSON.stringify({
      center: { id: 'bench', jurisdiction: 'EU' },
      jurisdictions: ['EU'],
      listen: { host: '127.0.0.1', port: 0 },
      dataDir: home,
      access,
      ...(database.url ? { databaseUrl: database.url } : {}),
    }),
  );
  // VITRINE_BENCH_PROFILE=<dir> writes a CPU profile of each registry process there.
  const profile = process.env.VITRINE_BENCH_PROFILE;
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      VITRINE,
      ...['serve', 'registry', '--config', config, '--json'],
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, VITRINE_LOG_LEVEL: 'error' },
    },
  );
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  return { url: (JSON.parse(line) as { registry: string }).registry, child };
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** A client on a connection of its own (each transport holds its own HTTP/2 session). */
function clientOf(url: string, auth?: Parameters<typeof callAuthInterceptor>[0]): Registry {
  const interceptors = auth ? [callAuthInterceptor(auth, 'bench')] : [];
  return createClient(RegistryService, createGrpcClientTransport(url, { interceptors }));
}

async function* upload() {
  const metadata = { kind: ArtifactKind.SOURCE, product: 'router-os', version: '4.2' };
  yield { part: { case: 'metadata' as const, value: metadata } };
  yield { part: { case: 'data' as const, value: new Uint8Array(10_000).fill(7) } };
}

interface Round {
  readonly rate: number;
  readonly ok: number;
  readonly errors: number;
  readonly latencies: number[];
  /** CPU time of the registry process per successful read, in ms. */
  readonly cpuPerRead: number;
  /** CPU time of this process (the clients) per successful read, in ms. */
  readonly clientCpuPerRead: number;
}

/** Every client reads `id` in a loop for `ms` from the registry process `pid`. */
async function round(
  readers: readonly Registry[],
  pid: number,
  id: string,
  ms: number,
): Promise<Round> {
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = await cpuSeconds(pid);
  const clientBefore = process.cpuUsage();
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    readers.map(async (reader) => {
      while (performance.now() < until) {
        const sent = performance.now();
        try {
          await reader.getArtifact({ id });
          latencies.push(performance.now() - sent);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const client = process.cpuUsage(clientBefore);
  const clientCpuPerRead = (client.user + client.system) / 1000 / latencies.length;
  const cpuPerRead = (((await cpuSeconds(pid)) - cpuBefore) * 1000) / latencies.length;
  const rate = latencies.length / elapsed;
  return { rate, ok: latencies.length, errors, latencies, cpuPerRead, clientCpuPerRead };
}

/** AccessUsed events in a center's log (read once its process has stopped). */
async function accessUsedCount(home: string, database: TestDatabase): Promise<number> {
  const { db } = await openDatabase<{ events: { body_case: string | null } }>({
    url: database.url,
    dataDir: join(home, 'db'),
  });
  const { count } = await db
    .selectFrom('events')
    .select(sql<string>`count(*)`.as('count'))
    .where('body_case', '=', 'accessUsed')
    .executeTakeFirstOrThrow();
  await db.destroy();
  return Number(count);
}

const dir = await tempDir('vitrine-bench-partner-reads-');
const trust = await startTestTrust(['bench']);
const enforcedDb = await backend.open();
const openDb = await backend.open();
const enforcedHome = join(dir.path, 'enforced');
await seedTrustSnapshot(enforcedHome, trust.signed());
const enforced = await serve(enforcedHome, enforcedDb, {
  url: trust.url,
  trustKey: trust.trustKey,
});
const open = await serve(join(dir.path, 'open'), openDb, { mode: 'open' });
try {
  const operator = createClient(
    RegistryService,
    createGrpcClientTransport(enforced.url, { interceptors: [trust.operatorAuth('bench')] }),
  );
  const id = (await operator.pushArtifact(upload())).artifact?.id ?? '';
  await clientOf(open.url).pushArtifact(upload());
  const partners = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const caller = await trust.partner({
        partner: `reader-${i}`,
        jurisdiction: 'EU',
        audience: ['bench'],
        scope: { kinds: ['source'], actions: ['read'] },
      });
      return clientOf(enforced.url, () => caller);
    }),
  );
  const anonymous = Array.from({ length: clients }, () => clientOf(open.url));
  const openRound = (ms: number) => round(anonymous, open.child.pid ?? 0, id, ms);
  const enforcedRound = (ms: number) => round(partners, enforced.child.pid ?? 0, id, ms);
  const warm = [await openRound(2_000), await enforcedRound(2_000)];
  const results = { open: [] as Round[], enforced: [] as Round[] };
  for (let r = 0; r < rounds; r++) {
    results.open.push(await openRound(seconds * 1_000));
    results.enforced.push(await enforcedRound(seconds * 1_000));
  }
  console.log(
    `GetArtifact on ${backend.name}, ${clients} clients (one connection each), ${rounds} rounds of ${seconds} s (medians):`,
  );
  for (const [mode, list] of Object.entries(results)) {
    const all = list.flatMap((r) => r.latencies);
    const errors = list.reduce((n, r) => n + r.errors, 0);
    console.log(
      `  ${mode === 'open' ? 'enforcement off (access mode open)' : 'partners: checked and recorded '}  ${median(
        list.map((r) => r.rate),
      )
        .toFixed(0)
        .padStart(
          5,
        )} reads/s  p50 ${percentile(all, 50).toFixed(1)} ms  p99 ${percentile(all, 99).toFixed(1)} ms  errors ${errors}  CPU ms/read: registry ${median(list.map((r) => r.cpuPerRead)).toFixed(2)}, clients ${median(list.map((r) => r.clientCpuPerRead)).toFixed(2)}`,
    );
  }
  const ratio = median(results.enforced.map((r, i) => r.rate / (results.open[i]?.rate ?? r.rate)));
  console.log(`  enforced / open: ${ratio.toFixed(2)}×`);
  await stop(enforced.child);
  const reads = [...warm.slice(1), ...results.enforced].reduce((n, r) => n + r.ok, 0);
  const recorded = await accessUsedCount(enforcedHome, enforcedDb);
  console.log(`  AccessUsed events recorded: ${recorded} for ${reads} partner reads`);
} finally {
  if (enforced.child.exitCode === null) await stop(enforced.child);
  await stop(open.child);
  await trust.close();
  await enforcedDb.cleanup();
  await openDb.cleanup();
  await dir.cleanup();
}
