import { type Kysely, sql } from 'kysely';

/** The finding fields this migration adds that are last-writer-wins registers. */
const NEW_REGISTERS = ['candidate_fix_artifact_id', 'locations'];

/**
 * Findings imported from a scanner keep its rule, tool and import key, where they are
 * (locations, as JSON), and the later artifact whose scan no longer reports them. The key
 * is looked up by import; the two new registers start, for findings already held, at their
 * creation's clock as every field's does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('findings')
    .addColumn('rule_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('tool', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('fingerprint', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('locations', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('candidate_fix_artifact_id', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .createIndex('findings_by_fingerprint')
    .on('findings')
    .column('fingerprint')
    .where(sql.ref('fingerprint'), '<>', '')
    .execute();
  await sql`
    insert into finding_field_versions (finding_id, field, hlc, origin)
    select f.id, field, f.created_hlc, f.origin
    from findings f cross join unnest(${NEW_REGISTERS}::text[]) as field
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from finding_field_versions where field = any(${NEW_REGISTERS}::text[])`.execute(
    db,
  );
  await db.schema.dropIndex('findings_by_fingerprint').execute();
  await db.schema
    .alterTable('findings')
    .dropColumn('candidate_fix_artifact_id')
    .dropColumn('locations')
    .dropColumn('fingerprint')
    .dropColumn('tool')
    .dropColumn('rule_id')
    .execute();
}
