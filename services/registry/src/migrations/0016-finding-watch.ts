import type { Kysely } from 'kysely';

/**
 * Finding changes in the order this center applied them, whatever their origin, each with
 * the finding as it stood once applied: the positions WatchFindings streams from and
 * resumes at. A position is taken in the applying
 * transaction while it holds this center's log-head lock, so positions commit in order
 * (see finding-changes.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('finding_changes')
    .addColumn('position', 'int8', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('finding_id', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('seq', 'int8', (c) => c.notNull())
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('finding', 'bytea', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('finding_changes').execute();
}
