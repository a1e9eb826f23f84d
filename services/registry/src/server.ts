import type { ChunkStore } from '@vitrine/chunks';
import { file_vitrine_registry_v1_event } from '@vitrine/proto/event';
import { LogService } from '@vitrine/proto/log';
import { RegistryService } from '@vitrine/proto/registry';
import { type Logger, type RunningServer, startServer } from '@vitrine/rpc';
import { noteSigner } from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import { type CenterAccess, openCenterAccess } from './access/center-access.js';
import { ArtifactArrivals } from './artifact-arrivals.js';
import { Artifacts } from './artifacts.js';
import { ChunkReplica } from './chunk-replica/index.js';
import type { RegistryConfig } from './config.js';
import { type CenterIdentity, EventLog } from './event-log.js';
import { Findings } from './findings.js';
import { Replica } from './replica.js';
import type { RegistryDatabase } from './schema.js';
import { registryService } from './service.js';
import { CheckpointPublisher } from './transparency/checkpoint-publisher.js';
import { CheckpointWitness } from './transparency/checkpoint-witness.js';
import { LOG_PREFIX, logResources } from './transparency/log-resources.js';
import { logService, resumeGuard } from './transparency/log-service.js';

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
}

/** Wires domain objects to the RPC server. */
export async function serveRegistry(parts: RegistryParts): Promise<ServedRegistry> {
  const { config, db, store, center, logger } = parts;
  const log = new EventLog(center, undefined, parts.now);
  const artifacts = new Artifacts(db, log, store, center, config.jurisdictions, {
    maxArtifactBytes: BigInt(config.maxArtifactBytes),
  });
  const findings = new Findings(db, log, center.id);
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
  const onLogError = (err: unknown) => logger.error({ err }, 'log resource not served');
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) => {
      router.service(RegistryService, registryService(db, artifacts, findings));
      router.service(LogService, logService(db, center.id, checkpoints, witness, replica.forked));
    },
    files: [file_vitrine_registry_v1_event],
    healthServices: [RegistryService.typeName, LogService.typeName],
    logger,
    interceptors: [access.interceptor, resumeGuard(access.operators)],
    readMaxBytes: config.maxMessageBytes,
    httpResources: [
      { prefix: LOG_PREFIX, handle: logResources(db, center.id, checkpoints, onLogError) },
    ],
  }).catch(async (err) => {
    await access.stop();
    throw err;
  });
  checkpoints.start();
  const chunks = new ChunkReplica(db, store, arrivals);
  return { server, replica, chunks, access, checkpoints, witness };
}
