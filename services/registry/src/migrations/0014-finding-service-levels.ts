import { type Kysely, sql } from 'kysely';

/**
 * Findings keep what their service level is derived from, and their disclosure embargo:
 * - `triaged_hlc`: the HLC of the earliest event that set status triaged (null: never);
 * - `fixed_hlc`: the HLC of the latest event that set status fixed (null: never);
 * - `disclose_after`: the planned disclosure date as its event carried it ('' for none), a
 *   last-writer-wins register like the other fields: findings held before this migration
 *   get its register at their creating event's clock, as a new finding does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('findings')
    .addColumn('triaged_hlc', 'int8')
    .addColumn('fixed_hlc', 'int8')
    .addColumn('disclose_after', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`
    insert into finding_field_versions (finding_id, field, hlc, origin)
    select id, 'disclose_after', created_hlc, origin from findings
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from finding_field_versions where field = 'disclose_after'`.execute(db);
  await db.schema
    .alterTable('findings')
    .dropColumn('disclose_after')
    .dropColumn('fixed_hlc')
    .dropColumn('triaged_hlc')
    .execute();
}
