import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGLITE_TEMPLATE_ENV } from '@vitrine/storage';
import { pgliteTemplate } from './pglite-template.js';
import { stopTestGateway, TEST_GATEWAY_ENV } from './test-gateway.js';

/**
 * Vitest global setup: builds the template cluster once, before any test file runs, and
 * names it in `VITRINE_PGLITE_TEMPLATE`, which every test process and every service process
 * they spawn inherit. Each embedded database a test creates is then a copy rather than an
 * initdb of its own. A value already set is kept. It also names the folder of the run's S3
 * gateway (`VITRINE_TEST_GATEWAY_DIR`), which it stops when the run ends.
 */
export default async function setup(): Promise<() => Promise<void>> {
  process.env[PGLITE_TEMPLATE_ENV] ??= await pgliteTemplate();
  // The folder of the run's S3 gateway, started by the first test that needs one.
  const gateway = process.env[TEST_GATEWAY_ENV] === undefined;
  if (gateway) process.env[TEST_GATEWAY_ENV] = await mkdtemp(join(tmpdir(), 'vitrine-rgw-'));
  return async () => {
    if (gateway) await stopTestGateway(process.env[TEST_GATEWAY_ENV] as string);
  };
}
