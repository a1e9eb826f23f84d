import { join } from 'node:path';
import { parseConfig } from '@vitrine/config';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import { DecisionKind } from '@vitrine/proto/access-decision';
import { createLogger, type Logger } from '@vitrine/rpc';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { observeAccess } from './access-metrics.js';
import { type AccessConfig, type AccessConfigInput, accessConfigSchema } from './config.js';
import { DecisionLog } from './decision-log.js';
import { accessMigrations } from './migrations/index.js';
import { syncOperators } from './operators.js';
import type { AccessDatabase } from './schema.js';
import { accessLogOrigin, serveAccess } from './server.js';
import { TokenKeys } from './token-keys.js';
import { bumpTrustVersion } from './trust-snapshots.js';

/** A running access service. */
export interface RunningAccess {
  readonly url: string;
  readonly port: number;
  readonly config: AccessConfig;
  /** Public half of the trust key: centers verify trust snapshots with it. */
  readonly trustKey: Uint8Array;
  /** Public half of the key that signs credentials now. */
  readonly tokenKey: Uint8Array;
  /** The access log's origin, `<federation>/access`: its checkpoints' key name. */
  readonly logOrigin: string;
  stop(): Promise<void>;
}

/** Where the trust key lives unless the config names a file. */
export function trustKeyPath(config: Pick<AccessConfig, 'dataDir' | 'trustKeyFile'>): string {
  return config.trustKeyFile ?? join(config.dataDir, 'keys', 'trust.key');
}

/**
 * Starts the central access service: validates the config, opens the database (PGlite
 * under `dataDir/db` or PostgreSQL), runs migrations, makes the operator accounts those
 * of the config, loads or creates the trust key and the active token key (files 0600),
 * and serves; the access log records the first token key as a rotation. Every start bumps the trust version, so a snapshot rebuilt after a restart
 * never reuses a version centers already hold. `stop()` closes the server, then the database.
 */
export async function startAccess(
  input: AccessConfigInput,
  options: { logger?: Logger; now?: () => Date } = {},
): Promise<RunningAccess> {
  const config = parseConfig(accessConfigSchema, input, 'access');
  const logger = options.logger ?? createLogger('access');
  const now = options.now ?? (() => new Date());
  const database = await openDatabase<AccessDatabase>({
    url: config.databaseUrl,
    dataDir: join(config.dataDir, 'db'),
    sharedBuffers: config.embeddedDatabase.sharedBuffers,
  });
  try {
    const { db } = database;
    await migrateToLatest(db, accessMigrations);
    await syncOperators(db, config.operators);
    const trustKey = await loadOrCreateKeyFile(trustKeyPath(config));
    const log = new DecisionLog(db, trustKey);
    await log.init();
    const startedAt = now();
    const keys = await TokenKeys.open(db, join(config.dataDir, 'keys'), startedAt, (tx, first) =>
      log.record(tx, {
        kind: DecisionKind.KEY_ROTATED,
        atMs: BigInt(startedAt.getTime()),
        keyId: first.keyId,
        publicKey: first.key.publicKey,
      }),
    );
    await db.transaction().execute((tx) => bumpTrustVersion(tx));
    const { server, trust, checkpoints, gatherer } = await serveAccess({
      config,
      db,
      keys,
      trustKey,
      log,
      logger,
      now,
    });
    const stopGauges = observeAccess(log.store, checkpoints);
    logger.info({ url: server.url, db: database.kind }, 'access serving');
    return {
      url: server.url,
      port: server.port,
      config,
      trustKey: trustKey.publicKey,
      get tokenKey() {
        return keys.signer.key.publicKey;
      },
      logOrigin: accessLogOrigin(config.federation),
      async stop() {
        stopGauges();
        trust.close();
        await gatherer.stop();
        await checkpoints.stop();
        await server.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
