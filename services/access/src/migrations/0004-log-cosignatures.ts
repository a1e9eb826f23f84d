import { type Kysely, sql } from 'kysely';

/**
 * The cosignatures the access service gathered from the centers' witnesses for its log's
 * checkpoints (C2SP tlog-cosignature lines), served with them: one row per checkpoint size
 * and witness, as `ACCESS_COSIGNATURES` names the table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('access_log_cosignatures')
    .addColumn('log', 'text', (c) => c.notNull())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('witness', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('access_log_cosignatures_pkey', ['log', 'size', 'witness'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('access_log_cosignatures').execute();
}
