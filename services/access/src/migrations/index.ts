import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as credentialIssueTimes from './0002-credential-issue-times.js';
import * as decisionLog from './0003-decision-log.js';
import * as logCosignatures from './0004-log-cosignatures.js';

/** The access service's migrations in order; run at every start (Kysely Migrator). */
export const accessMigrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-credential-issue-times': credentialIssueTimes,
  '0003-decision-log': decisionLog,
  '0004-log-cosignatures': logCosignatures,
};
