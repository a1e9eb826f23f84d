import { PGLITE_TEMPLATE_ENV } from '@vitrine/storage';
import { pgliteTemplate } from './pglite-template.js';

/**
 * Vitest global setup: builds the template cluster once, before any test file runs, and
 * names it in `VITRINE_PGLITE_TEMPLATE`, which every test process and every service process
 * they spawn inherit. Each embedded database a test creates is then a copy rather than an
 * initdb of its own. A value already set is kept.
 */
export default async function setup(): Promise<void> {
  process.env[PGLITE_TEMPLATE_ENV] ??= await pgliteTemplate();
}
