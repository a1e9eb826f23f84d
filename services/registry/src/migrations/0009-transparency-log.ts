import { type Kysely, sql } from 'kysely';

/**
 * The transparency log of every origin a center holds events of: each complete subtree's
 * hash (RFC 9162), stored as events are stored so that roots, proofs and tiles are read,
 * never recomputed; and the checkpoints signed over it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('log_nodes')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('level', 'int2', (c) => c.notNull())
    .addColumn('idx', 'int8', (c) => c.notNull())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('log_nodes_pkey', ['origin', 'level', 'idx'])
    .execute();
  await db.schema
    .createTable('log_checkpoints')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('root', 'bytea', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('log_checkpoints_pkey', ['origin', 'size'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('log_checkpoints').execute();
  await db.schema.dropTable('log_nodes').execute();
}
