import type { Interceptor } from '@connectrpc/connect';
import { HandshakeReplays } from '@vitrine/channel';
import { canReleaseMemory, RELEASE_MEMORY_NODE_FLAGS } from '@vitrine/chunks';
import { parseConfig } from '@vitrine/config';
import { SyncService } from '@vitrine/proto/sync';
import type {
  CheckpointPublisher,
  CheckpointWitness,
  ChunkReplica,
  Cosignatures,
  Replica,
} from '@vitrine/registry';
import { createLogger, type Logger, startServer } from '@vitrine/rpc';
import { BodyFetcher } from './body-fetcher.js';
import { CheckpointMonitor } from './checkpoint-monitor.js';
import { ChunkFetcher } from './chunk-fetcher.js';
import { type SyncConfig, type SyncConfigInput, syncConfigSchema } from './config.js';
import { CosignatureGatherer } from './cosignature-gatherer.js';
import { type Federation, loadFederation } from './federation.js';
import { PeerStatuses } from './peer-status.js';
import { loadPeerTransport } from './peer-transport.js';
import { Replicator } from './replicator.js';
import { fetchChunksStream, syncService } from './service.js';
import { SessionTable } from './sessions.js';
import { statusGuard } from './status-guard.js';

/** A running sync service. */
export interface RunningSync {
  readonly url: string;
  readonly port: number;
  readonly config: SyncConfig;
  readonly statuses: PeerStatuses;
  stop(): Promise<void>;
}

/**
 * Reads the federation a sync config points at (manifest verified, own key checked) and
 * how to reach its peers (mutual TLS, or plaintext only on loopback).
 */
export async function federationOf(config: SyncConfig): Promise<Federation> {
  const trust = await loadFederation({
    manifestFile: config.manifestFile,
    federationRootKey: config.federationRootKey,
    keyFile: config.keyFile,
    centerId: config.center.id,
  });
  return { ...trust, transport: await loadPeerTransport(config, trust.manifest) };
}

/**
 * Starts a center's sync service beside its registry (sharing its replica and its operator
 * check, for GetStatus): serves peers' handshakes and subscriptions, and subscribes to
 * every peer in the federation manifest.
 */
export async function startSync(
  input: SyncConfigInput,
  options: {
    replica: Replica;
    chunks: ChunkReplica;
    /** The registry's witness: given, the center checks its peers' checkpoints. */
    witness?: CheckpointWitness;
    /**
     * The registry's checkpoints and cosignature store: given (and `log.gatherCosignatures`
     * on), the center has its peers' witnesses cosign its checkpoints.
     */
    checkpoints?: CheckpointPublisher;
    cosignatures?: Cosignatures;
    /** The registry's operator check, which GetStatus callers must pass. */
    operators: Interceptor;
    federation?: Federation;
    logger?: Logger;
  },
): Promise<RunningSync> {
  const config = parseConfig(syncConfigSchema, input, 'sync');
  const logger = options.logger ?? createLogger(`sync:${config.center.id}`);
  const federation = options.federation ?? (await federationOf(config));
  const sessions = new SessionTable();
  const replays = new HandshakeReplays();
  const statuses = new PeerStatuses();
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) =>
      router.service(
        SyncService,
        syncService(federation, options.replica, options.chunks, sessions, statuses, replays),
      ),
    encodedStreams: [fetchChunksStream(federation, options.chunks, sessions)],
    files: [],
    healthServices: [SyncService.typeName],
    interceptors: [statusGuard(options.operators)],
    logger,
    ...(federation.transport.serverTls ? { tls: federation.transport.serverTls } : {}),
  });
  const replicator = new Replicator(federation, options.replica, statuses, config.backoff, logger);
  replicator.start();
  const fetcher = new ChunkFetcher(
    federation,
    options.replica,
    options.chunks,
    statuses,
    config.backoff,
    logger,
  );
  fetcher.start();
  const bodies = new BodyFetcher(federation, options.replica, statuses, config.backoff, logger);
  bodies.start();
  const monitor =
    options.witness &&
    new CheckpointMonitor(federation, options.witness, config.log.monitorIntervalMs, logger);
  monitor?.start();
  const gatherer =
    config.log.gatherCosignatures && options.checkpoints && options.cosignatures
      ? new CosignatureGatherer(
          federation,
          options.checkpoints,
          options.cosignatures,
          config.backoff,
          logger,
        )
      : undefined;
  gatherer?.start();
  logger.info({ url: server.url, center: config.center.id }, 'sync serving');
  if (!canReleaseMemory) {
    logger.warn(
      { nodeFlags: RELEASE_MEMORY_NODE_FLAGS },
      'artifact frames are freed only by garbage collection, so peaks run higher: start Node with these flags',
    );
  }
  return {
    url: server.url,
    port: server.port,
    config,
    statuses,
    async stop() {
      await replicator.stop();
      await fetcher.stop();
      await bodies.stop();
      await monitor?.stop();
      await gatherer?.stop();
      sessions.clear();
      await server.close();
    },
  };
}
