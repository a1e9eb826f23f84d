import { Writable } from 'node:stream';
import pino from 'pino';
import { type RunningServer, type StartServerOptions, startServer } from '../src/index.js';
import { echoFiles, echoRoutes } from './echo-registry.js';

/** The registry service name the stand-in server reports in health. */
export const REGISTRY = 'vitrine.registry.v1.RegistryService';

/** A logger whose JSON lines are kept in memory, so tests can read what was logged. */
export function memoryLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

/** Starts the stand-in registry on an ephemeral port, with logs kept in memory. */
export async function startEchoServer(
  options: Partial<StartServerOptions> = {},
): Promise<RunningServer & { logs: () => Record<string, unknown>[] }> {
  const { logger, lines } = memoryLogger();
  const server = await startServer({
    port: 0,
    routes: echoRoutes,
    files: echoFiles,
    healthServices: [REGISTRY],
    logger,
    ...options,
  });
  return Object.assign(server, { logs: lines });
}
