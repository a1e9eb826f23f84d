import { join } from 'node:path';
import type { Interceptor } from '@connectrpc/connect';
import type { ServiceLevelPolicy } from '@vitrine/channel';
import { parseConfig } from '@vitrine/config';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import { createLogger, type Logger, type Readiness } from '@vitrine/rpc';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import type { CosignatureStore as Cosignatures } from '@vitrine/tlog-store';
import type { TrustState } from './access/trust-state.js';
import type { ChunkReplica } from './chunk-replica/index.js';
import { openChunkStore } from './chunk-store-config.js';
import { type RegistryConfig, type RegistryConfigInput, registryConfigSchema } from './config.js';
import { registryMigrations } from './migrations/index.js';
import { observeRegistry } from './registry-metrics.js';
import type { Replica } from './replica.js';
import type { RegistryDatabase } from './schema.js';
import { serveRegistry } from './server.js';
import { ServiceLevels } from './service-levels.js';
import type { CheckpointPublisher } from './transparency/checkpoint-publisher.js';
import type { CheckpointWitness } from './transparency/checkpoint-witness.js';
import type { KnownLog } from './transparency/known-logs.js';

/** A running registry: its address and public key, and how to stop it. */
export interface RunningRegistry {
  readonly url: string;
  readonly port: number;
  readonly config: RegistryConfig;
  readonly publicKey: Uint8Array;
  /** The center's log as replication sees it, for the sync service in the same process. */
  readonly replica: Replica;
  /** The artifact bytes side of replication, for the same sync service. */
  readonly chunks: ChunkReplica;
  /** Checks the peers' checkpoints the same sync service fetches. */
  readonly witness: CheckpointWitness;
  /** The center's checkpoints, for the sync service that gathers their cosignatures. */
  readonly checkpoints: CheckpointPublisher;
  /** Where gathered cosignatures are kept and served from. */
  readonly cosignatures: Cosignatures;
  /** The trust snapshot in force and the access log it was held to; undefined when open. */
  readonly trust: TrustState | undefined;
  /**
   * Admits a center's operators only, checked as the registry checks them, for the sync
   * service in the same process (its GetStatus); open when access enforcement is off.
   */
  readonly operators: Interceptor;
  /** Readiness as health reports it: the checks that failed in the latest round, and why. */
  readonly readiness: Readiness | undefined;
  stop(): Promise<void>;
}

/**
 * Starts a center's registry: validates the config, opens the database (PGlite under
 * `dataDir/db` or PostgreSQL), runs migrations, opens the chunk store (local or S3), loads or creates the
 * center's signing key (0600), and serves. `stop()` closes the server, then the database.
 */
export async function startRegistry(
  input: RegistryConfigInput,
  options: {
    logger?: Logger;
    now?: () => number;
    originKey?: (origin: string) => Uint8Array | undefined;
    /** Every log of the federation (`knownLogs`), for the center's witness and quorum. */
    knownLogs?: readonly KnownLog[];
    /** How long a finding watch stays silent before a heartbeat (15 s when not given). */
    watchHeartbeatMs?: number;
    /** Days to fix findings: the signed federation manifest's; the defaults when not given. */
    serviceLevels?: ServiceLevelPolicy;
  } = {},
): Promise<RunningRegistry> {
  const config = parseConfig(registryConfigSchema, input, 'registry');
  const logger = options.logger ?? createLogger(`registry:${config.center.id}`);
  const database = await openDatabase<RegistryDatabase>({
    url: config.databaseUrl,
    dataDir: join(config.dataDir, 'db'),
    sharedBuffers: config.embeddedDatabase.sharedBuffers,
  });
  try {
    await migrateToLatest(database.db, registryMigrations);
    const store = await openChunkStore(config, process.env);
    const signingKey = await loadOrCreateKeyFile(
      config.keyFile ?? join(config.dataDir, 'keys', 'center.key'),
    );
    const center = { ...config.center, signingKey };
    const served = await serveRegistry({
      config,
      db: database.db,
      store,
      center,
      logger,
      ...(options.now ? { now: options.now } : {}),
      ...(options.originKey ? { originKey: options.originKey } : {}),
      ...(options.knownLogs ? { knownLogs: options.knownLogs } : {}),
      ...(options.watchHeartbeatMs ? { watchHeartbeatMs: options.watchHeartbeatMs } : {}),
      ...(options.serviceLevels ? { serviceLevels: options.serviceLevels } : {}),
    });
    const { server, replica, chunks, access, checkpoints, witness, cosignatures } = served;
    const levels = new ServiceLevels(options.serviceLevels, config.jurisdictions);
    const stopGauges = observeRegistry(database.db, center.id, levels, options.now);
    logger.info({ url: server.url, center: center.id, db: database.kind }, 'registry serving');
    return {
      url: server.url,
      port: server.port,
      config,
      publicKey: signingKey.publicKey,
      replica,
      chunks,
      witness,
      checkpoints,
      cosignatures,
      trust: access.trust,
      operators: access.operators,
      readiness: server.readiness,
      async stop() {
        stopGauges();
        await server.close();
        await checkpoints.stop();
        await access.stop();
        await store.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
