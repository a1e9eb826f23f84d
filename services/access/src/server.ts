import { MemoryReplayGuard } from '@vitrine/credentials';
import type { SigningKeyPair } from '@vitrine/crypto';
import { AccessService } from '@vitrine/proto/access';
import { type Logger, type RunningServer, startServer } from '@vitrine/rpc';
import type { Kysely } from 'kysely';
import { AccessRequests } from './access-requests.js';
import { authenticationInterceptor } from './authentication.js';
import type { AccessConfig } from './config.js';
import { CredentialIssuer } from './credential-issuer.js';
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
  readonly logger: Logger;
  readonly now: () => Date;
}

/** Wires domain objects to the RPC server. */
export async function serveAccess(
  parts: AccessServerParts,
): Promise<{ server: RunningServer; trust: TrustSnapshots }> {
  const { config, db, keys, logger, now } = parts;
  const policies = new Policies(config.jurisdictions);
  const trust = new TrustSnapshots(db, parts.trustKey, now, (err) =>
    logger.error({ err }, 'republishing trust after a key expiry failed'),
  );
  await trust.publish();
  const issuer = new CredentialIssuer(keys);
  const service = accessService({
    config,
    db,
    policies,
    requests: new AccessRequests(db, policies, issuer, now),
    revocations: new Revocations(db, keys, trust, now),
    issuer,
    keys,
    trust,
    now,
  });
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) => router.service(AccessService, service),
    files: [],
    healthServices: [AccessService.typeName],
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
  });
  return { server, trust };
}
