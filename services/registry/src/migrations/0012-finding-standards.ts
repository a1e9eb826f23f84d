import type { Kysely } from 'kysely';

/**
 * Findings keep the score of their CVSS vector (null without a vector, and for findings
 * recorded before scores were computed) and the reason given for a severity that differs
 * from the score's band.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('findings')
    .addColumn('cvss_score', 'float8')
    .addColumn('severity_reason', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('findings')
    .dropColumn('severity_reason')
    .dropColumn('cvss_score')
    .execute();
}
