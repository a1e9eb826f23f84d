import { type Kysely, sql } from 'kysely';

/**
 * Findings get a per-origin number (`europe-1`, `europe-2`, …), no longer the sequence of
 * their creating event: `findings.number` holds it, indexed so an origin finds its highest
 * at once. Findings recorded before keep their ids; their number is read from the id, so
 * new ones continue after the highest. Artifacts record whether their publisher widened
 * the residency of the artifact they supersede (false for every earlier one: their signed
 * manifests carry no such mark).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('findings').addColumn('number', 'int8').execute();
  await sql`
    update findings
    set number = substr(id, length(origin) + 2)::int8
    where left(id, length(origin) + 1) = origin || '-'
      and substr(id, length(origin) + 2) ~ '^[1-9][0-9]{0,17}$'
  `.execute(db);
  await db.schema
    .createIndex('findings_origin_number')
    .on('findings')
    .columns(['origin', 'number'])
    .execute();
  await db.schema
    .alterTable('artifacts')
    .addColumn('residency_widened', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('artifacts').dropColumn('residency_widened').execute();
  await db.schema.dropIndex('findings_origin_number').execute();
  await db.schema.alterTable('findings').dropColumn('number').execute();
}
