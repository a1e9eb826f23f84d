import { MemoryReplayGuard } from '@vitrine/credentials';
import type { SigningKeyPair } from '@vitrine/crypto';
import { AccessService } from '@vitrine/proto/access';
import { file_vitrine_access_v1_decision } from '@vitrine/proto/access-decision';
import { LogService } from '@vitrine/proto/log';
import { type Logger, type RunningServer, startServer } from '@vitrine/rpc';
import { databaseReadiness } from '@vitrine/storage';
import { ADD_CHECKPOINT_PATH, noteSigner, witnessKey } from '@vitrine/tlog';
import {
  CheckpointPublisher,
  CosignatureGatherer,
  CosignatureStore,
  LOG_PREFIX,
  logProofService,
  tileHandler,
  type Witness,
} from '@vitrine/tlog-store';
import type { Kysely } from 'kysely';
import { AccessRequests } from './access-requests.js';
import { authenticationInterceptor } from './authentication.js';
import type { AccessConfig } from './config.js';
import { CredentialIssuer } from './credential-issuer.js';
import { ACCESS_COSIGNATURES, type DecisionLog } from './decision-log.js';
import { Policies } from './policies.js';
import { Revocations } from './revocations.js';
import type { AccessDatabase } from './schema.js';
import { accessService } from './service.js';
import type { TokenKeys } from './token-keys.js';
import { TrustSnapshots } from './trust-snapshots.js';

/** Everything an access server runs on, opened by `startAccess`. */
export interface AccessServerParts {
  readonly config: AccessConfig;
  readonly db: Kysely<AccessDatabase>;
  readonly keys: TokenKeys;
  readonly trustKey: SigningKeyPair;
  readonly log: DecisionLog;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** The access log's origin line and checkpoint key name: `<federation>/access`. */
export function accessLogOrigin(federation: string): string {
  return `${federation}/access`;
}

/**
 * Wires domain objects to the RPC server: AccessService (signed calls), and the access
 * log, open to anyone like health — the proof methods of LogService and C2SP tlog-tiles
 * under `/log/`. Its checkpoints are signed by the trust key, at most one per
 * `log.checkpointIntervalMs`, one of the empty log at first start, and cosigned by the
 * centers' witnesses (`log.witnesses`), whose cosignatures they are served with.
 */
export async function serveAccess(parts: AccessServerParts): Promise<{
  server: RunningServer;
  trust: TrustSnapshots;
  checkpoints: CheckpointPublisher;
  gatherer: CosignatureGatherer;
}> {
  const { config, db, keys, log, logger, now } = parts;
  const policies = new Policies(config.jurisdictions);
  const trust = new TrustSnapshots(db, parts.trustKey, log, now, (err) =>
    logger.error({ err }, 'republishing trust after a key expiry failed'),
  );
  await trust.publish();
  const checkpoints = new CheckpointPublisher({
    db,
    store: log.store,
    signer: noteSigner(accessLogOrigin(config.federation), parts.trustKey),
    intervalMs: config.log.checkpointIntervalMs,
    onError: (err) => logger.error({ err }, 'access log checkpoint not signed'),
  });
  await checkpoints.publish();
  const witnesses = accessLogWitnesses(config);
  const cosignatures = new CosignatureStore({
    db,
    ...ACCESS_COSIGNATURES,
    checkpoints,
    witnesses: witnesses.map((w) => w.key),
    quorum: config.log.witnessQuorum,
  });
  const gatherer = new CosignatureGatherer(
    checkpoints,
    cosignatures,
    witnesses,
    config.log.backoff,
    logger,
  );
  const issuer = new CredentialIssuer(keys, log);
  const service = accessService({
    config,
    db,
    policies,
    requests: new AccessRequests(db, policies, issuer, log, now),
    revocations: new Revocations(db, keys, trust, log, now),
    issuer,
    keys,
    trust,
    log,
    cosignatures,
    now,
  });
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) => {
      router.service(AccessService, service);
      router.service(LogService, logProofService(log.store, checkpoints, cosignatures));
    },
    files: [file_vitrine_access_v1_decision],
    healthServices: [AccessService.typeName, LogService.typeName],
    readiness: {
      checks: [databaseReadiness(db)],
      intervalMs: config.health.checkIntervalMs,
      timeoutMs: config.health.checkTimeoutMs,
    },
    logger,
    interceptors: [
      authenticationInterceptor({
        db,
        replays: new MemoryReplayGuard(),
        jurisdictions: policies.codes,
        maxSkewMs: config.proofSkewSeconds * 1000,
        now,
      }),
    ],
    httpResources: [
      {
        prefix: LOG_PREFIX,
        handle: tileHandler({
          store: log.store,
          checkpoints: cosignatures,
          onError: (err) => logger.error({ err }, 'access log resource not served'),
        }),
      },
    ],
  });
  checkpoints.start();
  gatherer.start();
  return { server, trust, checkpoints, gatherer };
}

/** The centers' witnesses of the access log, from `log.witnesses`. */
function accessLogWitnesses(config: AccessConfig): Witness[] {
  return config.log.witnesses.map((w) => ({
    id: w.id,
    url: new URL(ADD_CHECKPOINT_PATH, w.url).toString(),
    key: witnessKey(config.federation, w.id, Buffer.from(w.publicKey, 'base64')),
  }));
}
