import { setTimeout as sleep } from 'node:timers/promises';
import type { Interceptor } from '@connectrpc/connect';
import { HandshakeReplays } from '@vitrine/channel';
import { canReleaseMemory, RELEASE_MEMORY_NODE_FLAGS } from '@vitrine/chunks';
import { parseConfig } from '@vitrine/config';
import { VitrineError } from '@vitrine/errors';
import { SyncService } from '@vitrine/proto/sync';
import type {
  CheckpointPublisher,
  CheckpointWitness,
  ChunkReplica,
  Cosignatures,
  Replica,
} from '@vitrine/registry';
import { createLogger, type Logger, startServer } from '@vitrine/rpc';
import { CosignatureGatherer } from '@vitrine/tlog-store';
import { BodyFetcher } from './body-fetcher.js';
import { CheckpointMonitor } from './checkpoint-monitor.js';
import { ChunkFetcher } from './chunk-fetcher.js';
import { type SyncConfig, type SyncConfigInput, syncConfigSchema } from './config.js';
import { type Federation, loadFederation } from './federation.js';
import { DEFAULT_LEASE_POLL_MS, SyncLease } from './lease.js';
import { PeerStatuses } from './peer-status.js';
import { loadPeerTransport } from './peer-transport.js';
import { peerWitnesses } from './peer-witnesses.js';
import { Replicator } from './replicator.js';
import { fetchChunksStream, syncService } from './service.js';
import { SessionTable } from './sessions.js';
import { statusGuard } from './status-guard.js';
import { observeSync } from './sync-metrics.js';

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
    readiness: {
      checks: [
        {
          name: 'database',
          async check() {
            await options.replica.versionVector().catch((err: unknown) => {
              throw new Error(
                `database does not answer: ${err instanceof Error ? err.message : err}`,
              );
            });
          },
        },
      ],
      intervalMs: config.health.checkIntervalMs,
      timeoutMs: config.health.checkTimeoutMs,
    },
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
          options.checkpoints,
          options.cosignatures,
          peerWitnesses(federation),
          config.backoff,
          logger,
        )
      : undefined;
  gatherer?.start();
  const stopGauges = observeSync({
    replica: options.replica,
    chunks: options.chunks,
    witness: options.witness,
    peers: federation.manifest.centers.map((c) => c.id).filter((id) => id !== federation.self.id),
  });
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
      stopGauges();
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

/** A center's sync service under a lease: active while it holds it, standby otherwise. */
export interface LeasedSync {
  /** Where the sync service listens while active (its configured address). */
  readonly url: string;
  /** Whether this instance runs the center's sync now. */
  role(): 'active' | 'standby';
  /** Stops the active service (or the wait) and gives the lease up. */
  stop(): Promise<void>;
}

/**
 * Runs a center's sync service only while this process holds the center's lease in
 * PostgreSQL (`SyncLease`), so several processes of one center may run side by side with
 * exactly one replicating: the others wait as standbys, and one of them takes over within
 * a poll interval or two of the active one dying. An instance that loses its lease stops its
 * sync service at once and waits again. Resolves once this instance knows its role.
 * The listen port must be fixed (peers dial the manifest's endpoint, whichever instance
 * answers it).
 */
export async function startLeasedSync(
  input: SyncConfigInput,
  options: Parameters<typeof startSync>[1] & {
    lease: { databaseUrl: string; pollMs?: number };
  },
): Promise<LeasedSync> {
  const config = parseConfig(syncConfigSchema, input, 'sync');
  if (config.listen.port === 0) {
    throw new VitrineError(
      'invalid_argument',
      'sync.listen.port must be a fixed port when sync runs under a lease (a standby takes over that port)',
    );
  }
  const logger = options.logger ?? createLogger(`sync:${config.center.id}`);
  const shared = {
    ...options,
    logger,
    federation: options.federation ?? (await federationOf(config)),
  };
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const scheme = shared.federation.transport.serverTls ? 'https' : 'http';
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  let active: RunningSync | undefined;
  let known: () => void = () => {};
  const roleKnown = new Promise<void>((resolve) => {
    known = resolve;
  });
  const run = (async () => {
    while (!stopping.signal.aborted) {
      let lease: SyncLease;
      try {
        lease = await SyncLease.acquire(
          {
            databaseUrl: options.lease.databaseUrl,
            centerId: config.center.id,
            ...(options.lease.pollMs === undefined ? {} : { pollMs: options.lease.pollMs }),
            logger,
            onStandby: known,
          },
          stopping.signal,
        );
      } catch {
        return; // aborted: acquire retries every other failure itself
      }
      // Another process may have ingested while this one waited: start from the database.
      shared.replica.forgetIngested();
      try {
        active = await startSync(input, shared);
      } catch (err) {
        logger.error(
          { err: err instanceof Error ? err.message : String(err) },
          'sync could not start under its lease; giving the lease up and retrying',
        );
        await lease.release();
        await sleep(options.lease.pollMs ?? DEFAULT_LEASE_POLL_MS, undefined, {
          signal: stopping.signal,
        }).catch(() => {});
        continue;
      }
      logger.info({ center: config.center.id, url: active.url }, 'sync active: holds the lease');
      known();
      const lost = await Promise.race([lease.lost, stopped.then(() => undefined)]);
      if (lost) {
        logger.warn(
          { center: config.center.id, err: lost.message },
          'sync lease lost: stopping the sync service and waiting as standby',
        );
      }
      const running = active;
      active = undefined;
      await running.stop();
      await lease.release();
    }
  })();
  await Promise.race([roleKnown, run]);
  return {
    url: `${scheme}://${host}:${config.listen.port}`,
    role: () => (active === undefined ? 'standby' : 'active'),
    async stop() {
      stopping.abort();
      await run;
    },
  };
}
