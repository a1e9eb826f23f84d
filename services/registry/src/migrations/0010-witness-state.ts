import { type Kysely, sql } from 'kysely';

/**
 * A center as a witness of the other logs of its federation (C2SP tlog-witness): per log
 * origin, the latest checkpoint it cosigned, replaced only by compare-and-swap on the size
 * and root it held. And the cosignatures the center gathered from its peers' witnesses for
 * its own checkpoints, served with them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('witness_state')
    .addColumn('origin', 'text', (c) => c.primaryKey())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('root', 'bytea', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('cosigned_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('log_cosignatures')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('witness', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('log_cosignatures_pkey', ['origin', 'size', 'witness'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('log_cosignatures').execute();
  await db.schema.dropTable('witness_state').execute();
}
