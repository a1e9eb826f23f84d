import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';

/** The access service's migrations in order; run at every start (Kysely Migrator). */
export const accessMigrations: Record<string, Migration> = {
  '0001-initial': initial,
};
