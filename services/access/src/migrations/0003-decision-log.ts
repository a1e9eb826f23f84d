import { createLogTables, dropLogTables } from '@vitrine/tlog-store';
import type { Kysely } from 'kysely';

/**
 * The access service's transparency log: one leaf per decision (a signed AccessDecision),
 * appended in the decision's transaction, with every subtree hash stored and the signed
 * checkpoints. Table names as `ACCESS_LOG_TABLES` gives them (spelled out here: a migration
 * does not change when code does).
 */
const tables = {
  nodes: 'access_log_nodes',
  leaves: 'access_log_leaves',
  heads: 'access_log_heads',
  checkpoints: 'access_log_checkpoints',
};

export async function up(db: Kysely<unknown>): Promise<void> {
  await createLogTables(db, tables);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropLogTables(db, tables);
}
