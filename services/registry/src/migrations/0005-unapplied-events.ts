import type { Kysely } from 'kysely';

/**
 * Events stored here whose change is not yet applied to the derived state: those whose body
 * this center may hold but has not received yet (a peer outside the event's residency
 * forwarded the signed header alone), and those held back behind them so state is still
 * derived in log order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('unapplied_events')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('seq', 'int8', (c) => c.notNull())
    .addColumn('awaiting_body', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('unapplied_events_pk', ['origin', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('unapplied_events').execute();
}
