/** Logs a line holding secrets with the default logger, for logger.test.ts to read stderr. */
import { createLogger } from '../src/index.js';

const logger = createLogger('logger-child');
logger.debug('hidden at the default level');
logger.info(
  {
    token: 'v4.public.abc',
    request: { header: { authorization: 'Bearer xyz' }, product: 'p' },
    peer: { privateKey: 'k1', key: 'k2', center: 'eu' },
    credential: { secret: 's' },
  },
  'call',
);
