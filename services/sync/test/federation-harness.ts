import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@connectrpc/connect';
import { generateKxKeyPair, signManifest } from '@vitrine/channel';
import { generateSigningKeyPair, type SigningKeyPair, writeKeyFile } from '@vitrine/crypto';
import { RegistryService } from '@vitrine/proto/registry';
import { SyncService } from '@vitrine/proto/sync';
import {
  knownLogs,
  type RunningRegistry,
  seedTrustSnapshot,
  startRegistry,
} from '@vitrine/registry';
import { createGrpcClient, createLogger } from '@vitrine/rpc';
import {
  freePort,
  startTestTrust,
  type TempDir,
  type TestBackend,
  type TestDatabase,
  type TestTrust,
  tempDir,
} from '@vitrine/testing';
import { type RunningSync, type SyncConfigInput, startSync } from '../src/index.js';

/** One center of a test federation: registry and sync in this process, on real sockets. */
export interface TestCenter {
  readonly id: string;
  readonly jurisdiction: string;
  readonly key: SigningKeyPair;
  readonly registryPort: number;
  readonly syncPort: number;
  /** The settings its sync service starts with. */
  readonly syncConfig: SyncConfigInput;
  registry: RunningRegistry;
  sync: RunningSync | undefined;
  readonly client: Client<typeof RegistryService>;
  startSync(): Promise<void>;
  stopSync(): Promise<void>;
}

/** A three-center federation (asia/APAC, europe/EU, us/US) with a signed manifest. */
export interface TestFederation {
  readonly centers: Record<'asia' | 'europe' | 'us', TestCenter>;
  readonly root: SigningKeyPair;
  readonly manifestFile: string;
  /** The access side every center trusts (unless `options.access` named a real service). */
  readonly trust: TestTrust | undefined;
  cleanup(): Promise<void>;
}

const CENTERS = [
  { id: 'asia', jurisdiction: 'APAC' },
  { id: 'europe', jurisdiction: 'EU' },
  { id: 'us', jurisdiction: 'US' },
] as const;

type CenterId = (typeof CENTERS)[number]['id'];

/** A center's TLS certificate, its key and the CA bundle it trusts, all PEM. */
export interface TestCenterTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** How to start a test federation: plaintext on loopback unless TLS is given per center. */
export interface TestFederationOptions {
  readonly tls?: (center: CenterId) => Promise<TestCenterTls>;
  /**
   * A running access service for centers to follow (its URL and base64 trust key). Without
   * it a test trust publisher stands in, and each center's client signs as its operator.
   */
  readonly access?: { readonly url: string; readonly trustKey: string };
  /**
   * Centers witness each other: each registry knows the federation's logs, and each sync
   * service gathers cosignatures for its center's checkpoints (quorum as given, default 1).
   */
  readonly witnessing?: { readonly quorum?: number };
}

/** Writes a center's TLS files (key 0600) and returns the `sync.tls` settings naming them. */
async function writeTlsFiles(dir: string, tls: TestCenterTls) {
  await mkdir(dir, { recursive: true });
  const files = {
    certFile: join(dir, 'sync.crt'),
    keyFile: join(dir, 'sync.key'),
    caFile: join(dir, 'ca.crt'),
  };
  await writeFile(files.certFile, tls.cert);
  await writeFile(files.keyFile, tls.key, { mode: 0o600 });
  await writeFile(files.caFile, tls.ca);
  return files;
}

/** Starts the federation on `backend`, every center syncing with the others. */
export async function startTestFederation(
  backend: TestBackend,
  options: TestFederationOptions = {},
): Promise<TestFederation> {
  const dir: TempDir = await tempDir('vitrine-sync-');
  const logger = createLogger('test', { VITRINE_LOG_LEVEL: 'silent' });
  const root = await generateSigningKeyPair();
  const trust = options.access ? undefined : await startTestTrust(CENTERS.map((c) => c.id));
  const access = options.access ?? (trust as TestTrust);
  const prepared = await Promise.all(
    CENTERS.map(async (c) => ({
      ...c,
      key: await generateSigningKeyPair(),
      kx: await generateKxKeyPair(),
      registryPort: await freePort(),
      syncPort: await freePort(),
      database: (await backend.open()) as TestDatabase,
      dataDir: join(dir.path, c.id),
    })),
  );
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const signed = await signManifest(
    {
      version: 1,
      federation: 'test',
      issuedAt: new Date().toISOString(),
      centers: prepared.map((c) => ({
        id: c.id,
        jurisdiction: c.jurisdiction,
        registry: `http://127.0.0.1:${c.registryPort}`,
        sync: `http://127.0.0.1:${c.syncPort}`,
        signingKey: b64(c.key.publicKey),
        kxKey: b64(c.kx.publicKey),
      })),
      access: { url: 'http://127.0.0.1:1', tokenKeys: [] },
    },
    root,
  );
  const manifestFile = join(dir.path, 'manifest.json');
  await writeFile(manifestFile, JSON.stringify(signed));
  const centers = {} as Record<'asia' | 'europe' | 'us', TestCenter>;
  // Registries start side by side: each waits on its own database and sockets.
  const startCenter = async (c: (typeof prepared)[number]) => {
    const keyFile = join(c.dataDir, 'keys', 'center.key');
    await writeKeyFile(keyFile, c.key);
    const originKey = (origin: string) => prepared.find((p) => p.id === origin)?.key.publicKey;
    if (trust) await seedTrustSnapshot(c.dataDir, trust.signed());
    const registry = await startRegistry(
      {
        center: { id: c.id, jurisdiction: c.jurisdiction },
        federation: 'test',
        log: { checkpointIntervalMs: 50, witnessQuorum: options.witnessing?.quorum ?? 1 },
        jurisdictions: CENTERS.map((x) => x.jurisdiction),
        listen: { host: '127.0.0.1', port: c.registryPort },
        dataDir: c.dataDir,
        access: {
          url: access.url,
          trustKey: access.trustKey,
          backoff: { initialMs: 20, maxMs: 200 },
        },
        ...(c.database.url ? { databaseUrl: c.database.url } : {}),
      },
      {
        logger,
        originKey,
        // Finding watches go live (first heartbeat) quickly.
        watchHeartbeatMs: 200,
        ...(options.witnessing
          ? {
              knownLogs: knownLogs(
                'test',
                prepared.map((p) => ({ id: p.id, signingKey: p.key.publicKey })),
                Buffer.from(access.trustKey, 'base64'),
              ),
            }
          : {}),
      },
    );
    const syncConfig: SyncConfigInput = {
      center: { id: c.id, jurisdiction: c.jurisdiction },
      listen: { host: '127.0.0.1', port: c.syncPort },
      manifestFile,
      federationRootKey: b64(root.publicKey),
      keyFile,
      backoff: { initialMs: 50, maxMs: 500 },
      log: { monitorIntervalMs: 200 },
      ...(options.tls
        ? { tls: await writeTlsFiles(join(c.dataDir, 'tls'), await options.tls(c.id)) }
        : {}),
    };
    const center: TestCenter = {
      id: c.id,
      jurisdiction: c.jurisdiction,
      key: c.key,
      registryPort: c.registryPort,
      syncPort: c.syncPort,
      syncConfig,
      registry,
      sync: undefined,
      client: createGrpcClient(RegistryService, registry.url, {
        interceptors: trust ? [trust.operatorAuth(c.id)] : [],
      }),
      async startSync() {
        center.sync = await startSync(syncConfig, {
          replica: registry.replica,
          chunks: registry.chunks,
          operators: registry.operators,
          witness: registry.witness,
          ...(options.witnessing
            ? { checkpoints: registry.checkpoints, cosignatures: registry.cosignatures }
            : {}),
          logger,
        });
      },
      async stopSync() {
        await center.sync?.stop();
        center.sync = undefined;
      },
    };
    centers[c.id] = center;
  };
  await Promise.all(prepared.map(startCenter));
  await Promise.all(Object.values(centers).map((c) => c.startSync()));
  return {
    centers,
    root,
    manifestFile,
    trust,
    async cleanup() {
      await Promise.all(Object.values(centers).map((c) => c.stopSync()));
      await Promise.all(Object.values(centers).map((c) => c.registry.stop()));
      await trust?.close();
      await Promise.all(prepared.map((c) => c.database.cleanup()));
      await dir.cleanup();
    },
  };
}

/**
 * A client of `center`'s sync service calling as the federation's operator, as GetStatus
 * requires (no credential when the federation's access side is a real service).
 */
export function syncClientOf(f: TestFederation, center: TestCenter): Client<typeof SyncService> {
  return createGrpcClient(SyncService, `http://127.0.0.1:${center.syncPort}`, {
    interceptors: f.trust ? [f.trust.operatorAuth(center.id)] : [],
  });
}

/** Polls `probe` until it returns a value (not undefined) or `ms` pass. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
