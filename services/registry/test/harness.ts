import { randomBytes } from 'node:crypto';
import type { Client } from '@connectrpc/connect';
import type { ServiceLevelPolicy } from '@vitrine/channel';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClient, createLogger, type Logger } from '@vitrine/rpc';
import {
  startTestTrust,
  type TempDir,
  type TestBackend,
  type TestDatabase,
  type TestTrust,
  tempDir,
} from '@vitrine/testing';
import {
  type KnownLog,
  type RegistryConfigInput,
  type RunningRegistry,
  seedTrustSnapshot,
  startRegistry,
} from '../src/index.js';

/** A registry on a real socket over a throw-away database and data folder. */
export interface TestRegistry {
  registry: RunningRegistry;
  /** Signed by the test operator's credential. */
  client: Client<typeof RegistryService>;
  /** The access side: credentials, revocations, the operator. */
  trust: TestTrust;
  dataDir: string;
  /** Stops the registry and starts it again on the same database and folder. */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Where a test registry runs: center `europe` (EU) with its own trust and database unless
 * told otherwise. Shared ones (several centers under one trust, several processes of one
 * center over one PostgreSQL database) stay open at cleanup: their owner closes them.
 */
export interface TestRegistrySetting {
  readonly center?: { readonly id: string; readonly jurisdiction: string };
  readonly trust?: TestTrust;
  readonly database?: TestDatabase;
  /** Where the registry logs; silent unless given. */
  readonly logger?: Logger;
  /** The logs the registry's witness knows, and whose witnesses it trusts. */
  readonly knownLogs?: readonly KnownLog[];
  /** How long a finding watch stays silent before a heartbeat. */
  readonly watchHeartbeatMs?: number;
  /** The registry's clock (HLCs, service levels, embargoes); the wall clock unless given. */
  readonly now?: () => number;
  /** Days to fix findings, as a federation manifest gives them; the defaults unless given. */
  readonly serviceLevels?: ServiceLevelPolicy;
}

/** Starts a registry on the given backend (see `TestRegistrySetting`). */
export async function startTestRegistry(
  backend: TestBackend,
  overrides: {
    maxArtifactBytes?: number;
    maxMessageBytes?: number;
    maxImportBytes?: number;
    federation?: string;
    log?: { checkpointIntervalMs: number; witnessQuorum?: number };
    health?: { checkIntervalMs: number; checkTimeoutMs?: number };
    chunkStore?: RegistryConfigInput['chunkStore'];
  } = {},
  setting: TestRegistrySetting = {},
): Promise<TestRegistry> {
  const center = setting.center ?? { id: 'europe', jurisdiction: 'EU' };
  const logger = setting.logger ?? createLogger('test-registry', { VITRINE_LOG_LEVEL: 'silent' });
  const database: TestDatabase = setting.database ?? (await backend.open());
  const dir: TempDir = await tempDir('vitrine-registry-');
  const trust = setting.trust ?? (await startTestTrust([center.id]));
  await seedTrustSnapshot(dir.path, trust.signed());
  const config = {
    center,
    jurisdictions: ['APAC', 'EU', 'US'],
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: dir.path,
    access: { url: trust.url, trustKey: trust.trustKey, backoff: { initialMs: 20, maxMs: 200 } },
    ...(database.url ? { databaseUrl: database.url } : {}),
    ...overrides,
  };
  const options = {
    logger,
    ...(setting.knownLogs ? { knownLogs: setting.knownLogs } : {}),
    ...(setting.watchHeartbeatMs ? { watchHeartbeatMs: setting.watchHeartbeatMs } : {}),
    ...(setting.now ? { now: setting.now } : {}),
    ...(setting.serviceLevels ? { serviceLevels: setting.serviceLevels } : {}),
  };
  const registry = await startRegistry(config, options);
  const harness: TestRegistry = {
    registry,
    // The port stays the same across restarts, so one client serves the whole test.
    client: createGrpcClient(RegistryService, registry.url, {
      interceptors: [trust.operatorAuth(center.id)],
    }),
    trust,
    dataDir: dir.path,
    async restart() {
      const port = harness.registry.port;
      await harness.registry.stop();
      harness.registry = await startRegistry(
        { ...config, listen: { host: '127.0.0.1', port } },
        options,
      );
    },
    async cleanup() {
      await harness.registry.stop();
      if (!setting.trust) await trust.close();
      if (!setting.database) await database.cleanup();
      await dir.cleanup();
    },
  };
  return harness;
}

/** Deterministic pseudo-random bytes (incompressible, reproducible per seed). */
export function randomContent(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size));
}

/** Messages of an upload: metadata, then the content in pieces of at most 1 MiB. */
export async function* uploadOf(
  metadata: Record<string, unknown>,
  content: Uint8Array,
  piece = 1024 * 1024,
) {
  yield { part: { case: 'metadata' as const, value: metadata } };
  for (let at = 0; at < content.length; at += piece) {
    yield { part: { case: 'data' as const, value: content.subarray(at, at + piece) } };
  }
}

/** Collects a download into header and bytes. */
export async function download(client: Client<typeof RegistryService>, id: string) {
  let header: unknown;
  const parts: Uint8Array[] = [];
  for await (const res of client.pullArtifact({ id })) {
    if (res.part.case === 'artifact') header = res.part.value;
    if (res.part.case === 'data') parts.push(res.part.value);
  }
  return { header, bytes: new Uint8Array(Buffer.concat(parts)) };
}
