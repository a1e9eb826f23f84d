import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as fieldWrites from './0002-field-writes.js';
import * as chunkUsers from './0003-chunk-users.js';
import * as proofNonces from './0006-proof-nonces.js';

/** The registry's migrations in order; run at every start (Kysely Migrator). */
export const registryMigrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-field-writes': fieldWrites,
  '0003-chunk-users': chunkUsers,
  '0006-proof-nonces': proofNonces,
};
