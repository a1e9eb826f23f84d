/**
 * Measures a 256 MiB server stream of random bytes over gRPC (h2c): through vitrine's
 * startServer and createGrpcClient (response compression off), and through a bare
 * connect-node server and client with their defaults (gzip negotiated). Prints the
 * median MB/s of a few rounds each; run with `npx tsx libs/rpc/test/stream-throughput.ts`.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createClient } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import { RegistryService } from '@vitrine/proto/registry';
import pino from 'pino';
import { createGrpcClient, startServer } from '../src/index.js';
import { echoFiles, echoRoutes } from './echo-registry.js';

const SIZE = 256 * 1024 * 1024;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

type Pull = (id: string) => AsyncIterable<{ part: { case: string | undefined; value?: unknown } }>;

/** MB/s of one full download. */
async function once(pull: Pull): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  for await (const res of pull(`size:${SIZE}`)) {
    if (res.part.case === 'data') bytes += (res.part.value as Uint8Array).byteLength;
  }
  if (bytes !== SIZE) throw new Error(`got ${bytes} bytes`);
  return SIZE / 1e6 / ((performance.now() - started) / 1000);
}

const server = await startServer({
  port: 0,
  routes: echoRoutes,
  files: echoFiles,
  healthServices: [],
  logger: pino({ level: 'silent' }),
});
const vitrine = createGrpcClient(RegistryService, server.url, { readMaxBytes: 2 * 1024 * 1024 });

const bare = http2.createServer(connectNodeAdapter({ routes: echoRoutes }));
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
const gzip = createClient(RegistryService, createGrpcTransport({ baseUrl: bareUrl }));

const cases: [string, Pull][] = [
  ['vitrine (no compression)', (id) => vitrine.pullArtifact({ id })],
  ['connect-node defaults (gzip)', (id) => gzip.pullArtifact({ id })],
];
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, pull] of cases) results.get(name)?.push(await once(pull));
}
for (const [name, rates] of results) {
  const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] ?? 0;
  const all = rates.map((r) => r.toFixed(0)).join(', ');
  console.log(`${name.padEnd(30)} median ${median.toFixed(1).padStart(7)} MB/s  (rounds: ${all})`);
}
await server.close();
bare.close();
process.exit(0);
