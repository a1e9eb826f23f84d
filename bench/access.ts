/**
 * Access enforcement at a center, beside the same center with enforcement off, in one run:
 *
 * 1. Authorized metadata reads per second: GetArtifact by a partner holding a read grant
 *    (every call verified — PASETO signature, proof of possession, scope — and recorded as an
 *    AccessUsed event) against the same reads on a registry in access mode `open`.
 * 2. Revoke → refusal: an operator credential is revoked at the access service while each of
 *    the three centers is being called with it; the time until each center refuses it.
 *
 * Every service runs in this process, registries on embedded PGlite or, with `postgres`, each
 * on a database of its own on the test PostgreSQL server. Usage:
 *   npx tsx bench/access.ts [seconds=10] [revocations=50] [concurrency=16] [pglite|postgres]
 */
import { join } from 'node:path';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type Client, createClient } from '@connectrpc/connect';
import { NEWCOMER, startAccess } from '@vitrine/access';
import { ACCESS_AUDIENCE, type CallAuth, callAuthInterceptor } from '@vitrine/credentials';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import { AccessService, Action } from '@vitrine/proto/access';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { RegistryService } from '@vitrine/proto/registry';
import { type RunningRegistry, startRegistry } from '@vitrine/registry';
import { createGrpcClientTransport, createLogger } from '@vitrine/rpc';
import { grpcCodeOf, type TestDatabase, tempDir, testBackends } from '@vitrine/testing';
import { median } from './measure.js';

const [seconds = 10, revocations = 50, concurrency = 16] = process.argv.slice(2, 5).map(Number);
const backend = testBackends().find((b) => b.name === (process.argv[5] ?? 'pglite'));
if (!backend) throw new Error(`no ${process.argv[5]} backend (is PostgreSQL running?)`);
const databases: TestDatabase[] = [];
const logger = createLogger('bench', { VITRINE_LOG_LEVEL: 'silent' });
const CENTERS = [
  { id: 'asia', jurisdiction: 'APAC' },
  { id: 'europe', jurisdiction: 'EU' },
  { id: 'us', jurisdiction: 'US' },
] as const;

type Registry = Client<typeof RegistryService>;

function registryClient(url: string, center: string, auth?: CallAuth): Registry {
  const interceptors = auth ? [callAuthInterceptor(() => auth, center)] : [];
  return createClient(RegistryService, createGrpcClientTransport(url, { interceptors }));
}

function accessClient(url: string, key: SigningKeyPair, principal: string) {
  const interceptors = [callAuthInterceptor(() => ({ key, principal }), ACCESS_AUDIENCE)];
  return createClient(AccessService, createGrpcClientTransport(url, { interceptors }));
}

async function* upload() {
  const metadata = { kind: ArtifactKind.SOURCE, product: 'router-os', version: '4.2' };
  yield { part: { case: 'metadata' as const, value: metadata } };
  yield { part: { case: 'data' as const, value: new Uint8Array(100_000).fill(3) } };
}

/** Calls `read` from `concurrency` loops for `ms`; returns calls per second. */
async function rate(read: () => Promise<unknown>, ms: number): Promise<number> {
  let calls = 0;
  const until = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await read();
        calls++;
      }
    }),
  );
  return calls / ((performance.now() - start) / 1000);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const dir = await tempDir('vitrine-bench-access-');
const root = await generateSigningKeyPair();
const access = await startAccess(
  {
    listen: { port: 0 },
    dataDir: join(dir.path, 'access'),
    operators: [
      {
        name: 'root',
        roles: ['operator', 'approver', 'security'],
        publicKey: Buffer.from(root.publicKey).toString('base64'),
      },
    ],
    jurisdictions: Object.fromEntries(
      CENTERS.map((c) => [
        c.jurisdiction,
        { centers: [c.id], maxLifetimeHours: 24, kinds: ['source'], approvals: 1 },
      ]),
    ),
  },
  { logger },
);
const trustKey = Buffer.from(access.trustKey).toString('base64');
const start = async (id: string, jurisdiction: string, enforced: boolean) => {
  const database = await backend.open();
  databases.push(database);
  return startRegistry(
    {
      center: { id, jurisdiction },
      jurisdictions: CENTERS.map((c) => c.jurisdiction),
      listen: { port: 0 },
      dataDir: join(dir.path, enforced ? id : `${id}-open`),
      access: enforced ? { url: access.url, trustKey } : { mode: 'open' as const },
      ...(database.url ? { databaseUrl: database.url } : {}),
    },
    { logger },
  );
};
const centers: RunningRegistry[] = [];
for (const c of CENTERS) centers.push(await start(c.id, c.jurisdiction, true));
const open = await start('europe', 'EU', false);
const europe = centers[1] as RunningRegistry;

const asRoot = accessClient(access.url, root, 'operator:root');
const operatorAuth = async () => {
  const { credential } = await asRoot.issueOperatorCredential({});
  return { key: root, credential };
};
const rootAuth = await operatorAuth();
// Centers hold no trust until WatchTrust delivers the first snapshot.
while (
  (await grpcCodeOf(registryClient(europe.url, 'europe', rootAuth).listArtifacts({}))) !== 'OK'
) {
  await new Promise((r) => setTimeout(r, 20));
}
const artifactId =
  (await registryClient(europe.url, 'europe', rootAuth).pushArtifact(upload())).artifact?.id ?? '';
await registryClient(open.url, 'europe').pushArtifact(upload());

const partnerKey = await generateSigningKeyPair();
const { partner } = await accessClient(access.url, partnerKey, NEWCOMER).registerPartner({
  organisation: 'Bench Regulator',
  jurisdictions: ['EU'],
  contact: 'bench@example.org',
  publicKey: partnerKey.publicKey,
});
const partnerId = partner?.id ?? '';
const { request } = await accessClient(
  access.url,
  partnerKey,
  `partner:${partnerId}`,
).requestAccess({
  partnerId,
  jurisdiction: 'EU',
  scope: { artifactKinds: ['source'], actions: [Action.READ] },
  justification: 'benchmark',
  expiresAt: timestampFromDate(new Date(Date.now() + 12 * 3_600_000)),
});
const { request: approved } = await asRoot.decideAccessRequest({
  requestId: request?.id ?? '',
  approve: true,
  reason: 'benchmark',
});
const partnerClient = registryClient(europe.url, 'europe', {
  key: partnerKey,
  credential: approved?.credential ?? '',
});
const openClient = registryClient(open.url, 'europe');

// The machine is shared and noisy: short rounds, alternating, each compared with the open
// round beside it. Operator calls are verified like a partner's but not recorded (AccessUsed
// is for partners), which splits the cost between checking and recording.
const modes = {
  open: () => openClient.getArtifact({ id: artifactId }),
  operator: () => operatorClient.getArtifact({ id: artifactId }),
  partner: () => partnerClient.getArtifact({ id: artifactId }),
};
const operatorClient = registryClient(europe.url, 'europe', rootAuth);
const rounds = Math.max(3, Math.round(seconds / 3));
const rates = { open: [] as number[], operator: [] as number[], partner: [] as number[] };
for (const read of Object.values(modes)) await rate(read, 1_000); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const [mode, read] of Object.entries(modes)) {
    rates[mode as keyof typeof modes].push(await rate(read, 1_000));
  }
}
const vsOpen = (mode: 'operator' | 'partner') =>
  `${(100 * median(rates[mode].map((r, i) => r / (rates.open[i] ?? r)))).toFixed(0)}% of open`;
console.log(
  `GetArtifact on ${backend.name}, ${concurrency} calls in flight, ${rounds} rounds of 1 s each (medians):`,
);
console.log(`  enforcement off (access mode open)        ${median(rates.open).toFixed(0)} calls/s`);
console.log(
  `  operator credential: checked               ${median(rates.operator).toFixed(0)} calls/s  ${vsOpen('operator')}`,
);
console.log(
  `  partner credential: checked and recorded   ${median(rates.partner).toFixed(0)} calls/s  ${vsOpen('partner')}`,
);

/** Calls a center with `auth` until it is refused; resolves with the time of the refusal. */
async function refusedAt(url: string, center: string, auth: CallAuth): Promise<number> {
  const client = registryClient(url, center, auth);
  for (;;) {
    if ((await grpcCodeOf(client.listArtifacts({ pageSize: 1 }))) === 'UNAUTHENTICATED') {
      return performance.now();
    }
  }
}

const delays = new Map<string, number[]>(CENTERS.map((c) => [c.id, []]));
for (let i = 0; i < revocations; i++) {
  const issued = await asRoot.issueOperatorCredential({});
  const auth = { key: root, credential: issued.credential };
  const refusals = centers.map((c, i) => refusedAt(c.url, CENTERS[i]?.id ?? '', auth));
  const sent = performance.now();
  await asRoot.revoke({
    target: { case: 'credentialId', value: issued.credentialId },
    reason: 'benchmark',
  });
  const at = await Promise.all(refusals);
  for (const [k, c] of CENTERS.entries()) delays.get(c.id)?.push((at[k] ?? sent) - sent);
}
console.log(`Revoke → refusal, ${revocations} revocations (ms, from sending Revoke):`);
for (const [id, ms] of delays) {
  console.log(
    `  ${id.padEnd(7)} p50 ${percentile(ms, 50).toFixed(1)}  p99 ${percentile(ms, 99).toFixed(1)}  max ${Math.max(...ms).toFixed(1)}`,
  );
}

for (const c of [...centers, open]) await c.stop();
await access.stop();
for (const database of databases) await database.cleanup();
await dir.cleanup();
