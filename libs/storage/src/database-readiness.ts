import { type Kysely, sql } from 'kysely';

/**
 * A readiness check that the database answers a query (`select 1`): fails, with the
 * driver's message, while PostgreSQL is down, unreachable or refusing connections.
 */
export function databaseReadiness<DB>(db: Kysely<DB>): {
  name: string;
  check(): Promise<void>;
} {
  return {
    name: 'database',
    async check() {
      try {
        await sql`select 1`.execute(db);
      } catch (err) {
        throw new Error(`database does not answer: ${err instanceof Error ? err.message : err}`);
      }
    },
  };
}
