import { join } from 'node:path';
import type { ServiceLevelPolicy } from '@vitrine/channel';
import type { ChunkStore } from '@vitrine/chunks';
import { file_vitrine_registry_v1_event } from '@vitrine/proto/event';
import { LogService } from '@vitrine/proto/log';
import { RegistryService } from '@vitrine/proto/registry';
import { type Logger, type ReadinessCheck, type RunningServer, startServer } from '@vitrine/rpc';
import { databaseReadiness } from '@vitrine/storage';
import { noteSigner } from '@vitrine/tlog';
import { CosignatureStore as Cosignatures } from '@vitrine/tlog-store';
import type { Kysely } from 'kysely';
import { type CenterAccess, openCenterAccess } from './access/center-access.js';
import { ArtifactArrivals } from './artifact-arrivals.js';
import { Artifacts } from './artifacts.js';
import { ChunkReplica } from './chunk-replica/index.js';
import type { RegistryConfig } from './config.js';
import { type CenterIdentity, EventLog } from './event-log.js';
import { FindingImports } from './finding-import.js';
import { FindingWatch } from './finding-watch.js';
import { Findings } from './findings.js';
import { Replica } from './replica.js';
import type { RegistryDatabase } from './schema.js';
import { registryService } from './service.js';
import { ServiceLevels } from './service-levels.js';
import { CheckpointPublisher } from './transparency/checkpoint-publisher.js';
import { CheckpointWitness } from './transparency/checkpoint-witness.js';
import { type KnownLog, witnessSigner } from './transparency/known-logs.js';
import { LOG_PREFIX, logResources } from './transparency/log-resources.js';
import { logService, resumeGuard } from './transparency/log-service.js';
import { LogWitness } from './transparency/log-witness.js';
import { ADD_CHECKPOINT_PATH, witnessResource } from './transparency/witness-resource.js';
import { WatchPositions } from './watch-position.js';

/** A finding watch's heartbeat: well inside the idle timeouts of common proxies (60 s). */
const WATCH_HEARTBEAT_MS = 15_000;

/** Everything a registry server runs on, opened by `startRegistry`. */
export interface RegistryParts {
  readonly config: RegistryConfig;
  readonly db: Kysely<RegistryDatabase>;
  readonly store: ChunkStore;
  readonly center: CenterIdentity;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Public signing keys of the federation's centers, for events received from peers. */
  readonly originKey?: (origin: string) => Uint8Array | undefined;
  /**
   * Every log the federation knows (`knownLogs` of its manifest): the center witnesses all
   * but its own, and trusts the others' witnesses to cosign its own. None when not given.
   */
  readonly knownLogs?: readonly KnownLog[];
  /** How long a finding watch stays silent before it sends a heartbeat; 15 s when not given. */
  readonly watchHeartbeatMs?: number;
  /** Days to fix findings, from the federation manifest; the defaults when not given. */
  readonly serviceLevels?: ServiceLevelPolicy;
}

/** A registry server and the replica the center's sync service works on. */
export interface ServedRegistry {
  readonly server: RunningServer;
  readonly replica: Replica;
  readonly chunks: ChunkReplica;
  /** Access enforcement; stop it after the server, before the database closes. */
  readonly access: CenterAccess;
  /** Signs checkpoints of the center's log; stop it after the server, before the database. */
  readonly checkpoints: CheckpointPublisher;
  /** Holds the peers' logs to what they signed (the sync service feeds it their checkpoints). */
  readonly witness: CheckpointWitness;
  /** The center as a witness of the other logs (POST /log/add-checkpoint). */
  readonly logWitness: LogWitness;
  /** Cosignatures gathered for the center's checkpoints (the sync service gathers them). */
  readonly cosignatures: Cosignatures;
}

/** Wires domain objects to the RPC server. */
export async function serveRegistry(parts: RegistryParts): Promise<ServedRegistry> {
  const { config, db, store, center, logger } = parts;
  const log = new EventLog(center, undefined, parts.now);
  const artifacts = new Artifacts(db, log, store, center, config.jurisdictions, {
    maxArtifactBytes: BigInt(config.maxArtifactBytes),
  });
  const findings = new Findings(db, log, center.id, parts.now);
  const levels = new ServiceLevels(parts.serviceLevels, config.jurisdictions);
  const imports = new FindingImports(db, log, center.id, {
    spoolDir: join(config.dataDir, 'imports'),
    maxBytes: config.maxImportBytes,
  });
  const watch = new FindingWatch(
    db,
    log.changes,
    new WatchPositions(center.signingKey.secretKey),
    parts.watchHeartbeatMs ?? WATCH_HEARTBEAT_MS,
  );
  const arrivals = new ArtifactArrivals();
  const replica = new Replica(db, log, center, parts.originKey ?? (() => undefined), arrivals);
  const witness = new CheckpointWitness(
    db,
    config.federation,
    parts.originKey ?? (() => undefined),
    replica.forked,
  );
  const access = await openCenterAccess(config, db, log, logger, (e) => witness.keep(e));
  const checkpoints = new CheckpointPublisher({
    db,
    center: center.id,
    signer: noteSigner(`${config.federation}/${center.id}`, center.signingKey),
    changes: log.changes,
    intervalMs: config.log.checkpointIntervalMs,
    onError: (err) => logger.error({ err }, 'checkpoint not signed'),
  });
  await checkpoints.publish();
  const others = (parts.knownLogs ?? []).filter((log) => log.id !== center.id);
  const logWitness = new LogWitness(
    db,
    witnessSigner(config.federation, center.id, center.signingKey),
    others,
    witness,
    parts.now,
  );
  const cosignatures = new Cosignatures({
    db,
    table: 'log_cosignatures',
    logColumn: 'origin',
    log: center.id,
    checkpoints,
    witnesses: others.flatMap((log) => (log.witness ? [log.witness] : [])),
    quorum: config.log.witnessQuorum,
  });
  const onLogError = (err: unknown) => logger.error({ err }, 'log resource not served');
  const onWitnessError = (err: unknown) => logger.error({ err }, 'checkpoint not witnessed');
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) => {
      router.service(
        RegistryService,
        registryService(
          db,
          artifacts,
          findings,
          { centerId: center.id, imports, watch, levels },
          parts.now,
        ),
      );
      router.service(LogService, logService(db, center.id, cosignatures, witness, replica.forked));
    },
    files: [file_vitrine_registry_v1_event],
    healthServices: [RegistryService.typeName, LogService.typeName],
    readiness: {
      checks: registryReadiness(db, store, access),
      intervalMs: config.health.checkIntervalMs,
      timeoutMs: config.health.checkTimeoutMs,
    },
    logger,
    interceptors: [access.interceptor, resumeGuard(access.operators)],
    readMaxBytes: config.maxMessageBytes,
    httpResources: [
      { prefix: ADD_CHECKPOINT_PATH, handle: witnessResource(logWitness, onWitnessError) },
      { prefix: LOG_PREFIX, handle: logResources(db, center.id, cosignatures, onLogError) },
    ],
  }).catch(async (err) => {
    await access.stop();
    throw err;
  });
  checkpoints.start();
  const chunks = new ChunkReplica(db, store, arrivals);
  return { server, replica, chunks, access, checkpoints, witness, logWitness, cosignatures };
}

/**
 * What a registry needs before it takes calls: its database answers, its chunk store is
 * writable and — when access is enforced — a trust snapshot is held (without one every
 * partner's credential would be refused).
 */
function registryReadiness(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  access: CenterAccess,
): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [
    databaseReadiness(db),
    { name: 'chunk store', check: () => store.checkWritable() },
  ];
  const { trust } = access;
  if (trust) {
    checks.push({
      name: 'trust snapshot',
      async check() {
        if (trust.version === undefined) {
          throw new Error(
            'no trust snapshot held yet: the access service has not sent one (access.url)',
          );
        }
      },
    });
  }
  return checks;
}
