import type { Kysely } from 'kysely';

/**
 * Every write of a finding field and the write it replaced, so conflicts (writes replaced by
 * a concurrent write that never saw them) are found the same way at every center.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('finding_field_writes')
    .addColumn('finding_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('hlc', 'int8', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('seen_hlc', 'int8', (c) => c.notNull())
    .addColumn('seen_origin', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_field_writes_pk', ['finding_id', 'field', 'hlc', 'origin'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('finding_field_writes').execute();
}
