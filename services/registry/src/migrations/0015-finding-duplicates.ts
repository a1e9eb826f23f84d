import type { Kysely } from 'kysely';

/**
 * A finding may name the finding it duplicates (its original): a last-writer-wins field
 * like the others, '' when it is no duplicate. Looked up both ways, so indexed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('findings')
    .addColumn('duplicate_of', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .createIndex('findings_duplicate_of')
    .on('findings')
    .column('duplicate_of')
    .where('duplicate_of', '<>', '')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('findings_duplicate_of').execute();
  await db.schema.alterTable('findings').dropColumn('duplicate_of').execute();
}
