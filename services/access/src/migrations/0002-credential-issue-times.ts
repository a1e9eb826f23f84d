import { type Kysely, sql } from 'kysely';

/**
 * A credential's recorded issue time is its approval: the time of the decision that issued
 * it, in the same transaction. Credentials recorded with their window's start instead get
 * their approval time, so partner revocations made before a window opened cover them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update credentials c
    set issued_at = d.approved_at
    from (
      select request_id, max(at) as approved_at from decisions group by request_id
    ) d
    where c.request_id = d.request_id and c.issued_at > d.approved_at
  `.execute(db);
}

/** Nothing to undo: the approval time is the true issue time. */
export async function down(): Promise<void> {}
