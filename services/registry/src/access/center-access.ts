import { join } from 'node:path';
import type { Interceptor } from '@connectrpc/connect';
import { ACTIONS } from '@vitrine/credentials';
import type { WatchTrustResponse } from '@vitrine/proto/access';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient, type Logger } from '@vitrine/rpc';
import type { Kysely } from 'kysely';
import type { RegistryConfig } from '../config.js';
import type { EventLog } from '../event-log.js';
import type { RegistryDatabase } from '../schema.js';
import { AccessGrant, grantKey } from './access-grant.js';
import { accessInterceptor } from './access-interceptor.js';
import { AccessLogAudit, type EvidenceKeeper } from './access-log-audit.js';
import { AccessRecorder } from './access-recorder.js';
import { CredentialCache } from './credential-cache.js';
import { isEnforced } from './method-actions.js';
import { operatorInterceptor } from './operator-interceptor.js';
import { ProofNonces } from './proof-nonces.js';
import { TrustFile } from './trust-file.js';
import { TrustState } from './trust-state.js';
import { TrustWatcher } from './trust-watcher.js';

/** A center's access enforcement: the interceptor its registry runs, and how to stop it. */
export interface CenterAccess {
  readonly interceptor: Interceptor;
  /**
   * Admits operators only (see operator-interceptor.ts), for services beside the registry
   * that answer operators; lets every call through when enforcement is off.
   */
  readonly operators: Interceptor;
  /** The trust in force; undefined when enforcement is off. */
  readonly trust: TrustState | undefined;
  /** Stops following the access service and waits for pending AccessUsed records. */
  stop(): Promise<void>;
}

/** How long a center waits for the access service's consistency proof for a snapshot. */
const ACCESS_PROOF_TIMEOUT_MS = 10_000;

/** Where a center keeps the last trust snapshot it accepted. */
export function trustFilePath(dataDir: string): string {
  return join(dataDir, 'access', 'trust-snapshot.bin');
}

/**
 * Installs a signed snapshot as the one a center holds, as if it had received it: for a
 * center provisioned before its first start, and for tests. It is verified at start.
 */
export function seedTrustSnapshot(dataDir: string, signed: WatchTrustResponse): Promise<void> {
  return new TrustFile(trustFilePath(dataDir)).write(signed);
}

/**
 * Sets up enforcement for a registry: loads the stored trust snapshot (verified offline),
 * follows the access service for newer ones, and checks every registry call. In access mode
 * `open` every call is let through as the local operator — for benchmarks' baseline only.
 */
export async function openCenterAccess(
  config: RegistryConfig,
  db: Kysely<RegistryDatabase>,
  log: EventLog,
  logger: Logger,
  /** Where evidence against the access log goes (the center's log evidence). */
  keepEvidence: EvidenceKeeper,
): Promise<CenterAccess> {
  if ('mode' in config.access) {
    logger.warn('access mode open: registry calls are not checked');
    return {
      interceptor: openInterceptor,
      operators: (next) => next,
      trust: undefined,
      stop: async () => {},
    };
  }
  const trustKey = new Uint8Array(Buffer.from(config.access.trustKey, 'base64'));
  const accessLog = createGrpcClient(LogService, config.access.url);
  const audit = new AccessLogAudit(
    async (oldSize, newSize) =>
      (
        await accessLog.getConsistencyProof(
          { oldSize: BigInt(oldSize), newSize: BigInt(newSize) },
          { timeoutMs: ACCESS_PROOF_TIMEOUT_MS },
        )
      ).proof,
    keepEvidence,
    logger,
  );
  const trust = await TrustState.open(
    trustKey,
    new TrustFile(trustFilePath(config.dataDir)),
    logger,
    audit,
  );
  const watcher = new TrustWatcher(
    config.access.url,
    config.center.id,
    trust,
    config.access.backoff,
    logger,
  );
  watcher.start();
  if (!(await trust.whenTrusted(config.access.firstSnapshotWaitMs))) {
    logger.warn(
      { access: config.access.url },
      'access service not heard from yet: calls are refused',
    );
  }
  const recorder = new AccessRecorder(db, log);
  const replays = new ProofNonces(db, logger);
  const checks = {
    center: config.center,
    trust,
    replays,
    recorder,
    credentials: new CredentialCache(config.access.skewSeconds),
    logger,
    skewSeconds: config.access.skewSeconds,
  };
  return {
    interceptor: accessInterceptor(checks),
    operators: operatorInterceptor(checks),
    trust,
    async stop() {
      await watcher.stop();
      await recorder.settled();
      await replays.settled();
    },
  };
}

/** Lets every registry call through as the local operator, with every action on everything. */
const openInterceptor: Interceptor = (next) => async (req) => {
  if (isEnforced(req)) {
    const everything = { kinds: [], products: [], artifacts: [], actions: [...ACTIONS] };
    req.contextValues.set(grantKey, new AccessGrant('operator', everything));
  }
  return next(req);
};
