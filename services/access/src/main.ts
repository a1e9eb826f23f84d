import { join } from 'node:path';
import { parseConfig } from '@vitrine/config';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import { AccessService } from '@vitrine/proto/access';
import { createLogger, type Logger, startServer } from '@vitrine/rpc';
import { type AccessConfig, type AccessConfigInput, accessConfigSchema } from './config.js';

/** A running access service. */
export interface RunningAccess {
  readonly url: string;
  readonly port: number;
  readonly config: AccessConfig;
  /** Public half of the key that signs partner credentials. */
  readonly tokenKey: Uint8Array;
  stop(): Promise<void>;
}

/**
 * Starts the central access service endpoint with health and reflection, creating its
 * credential signing key (0600) on first start. The partner and credential API
 * (vitrine.access.v1) is declared; its methods answer UNIMPLEMENTED until access control
 * ships.
 */
export async function startAccess(
  input: AccessConfigInput,
  options: { logger?: Logger } = {},
): Promise<RunningAccess> {
  const config = parseConfig(accessConfigSchema, input, 'access');
  const logger = options.logger ?? createLogger('access');
  const tokenKey = await loadOrCreateKeyFile(join(config.dataDir, 'keys', 'token-signing.key'));
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) => router.service(AccessService, {}),
    files: [],
    healthServices: [AccessService.typeName],
    logger,
  });
  logger.info({ url: server.url }, 'access serving');
  return {
    url: server.url,
    port: server.port,
    config,
    tokenKey: tokenKey.publicKey,
    stop: () => server.close(),
  };
}
