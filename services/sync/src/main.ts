import { parseConfig } from '@vitrine/config';
import { SyncService } from '@vitrine/proto/sync';
import { createLogger, type Logger, startServer } from '@vitrine/rpc';
import { type SyncConfig, type SyncConfigInput, syncConfigSchema } from './config.js';

/** A running sync service. */
export interface RunningSync {
  readonly url: string;
  readonly port: number;
  readonly config: SyncConfig;
  stop(): Promise<void>;
}

/**
 * Starts a center's sync service endpoint with health and reflection. The replication
 * protocol (vitrine.sync.v1: handshake, subscribe, chunk fetch) is declared in the API;
 * its methods answer UNIMPLEMENTED until replication ships, so peers and tools can
 * already discover the endpoint and see exactly what it serves.
 */
export async function startSync(
  input: SyncConfigInput,
  options: { logger?: Logger } = {},
): Promise<RunningSync> {
  const config = parseConfig(syncConfigSchema, input, 'sync');
  const logger = options.logger ?? createLogger(`sync:${config.center.id}`);
  const server = await startServer({
    host: config.listen.host,
    port: config.listen.port,
    routes: (router) => router.service(SyncService, {}),
    files: [],
    healthServices: [SyncService.typeName],
    logger,
  });
  logger.info({ url: server.url, center: config.center.id }, 'sync serving');
  return { url: server.url, port: server.port, config, stop: () => server.close() };
}
