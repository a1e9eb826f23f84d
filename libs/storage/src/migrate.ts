import { FieldViolations, VitrineError } from '@vitrine/errors';
import { type Kysely, type Migration, type MigrationResultSet, Migrator, sql } from 'kysely';

/** Migration names sort as applied: a four-digit sequence, then a kebab-case title. */
const MIGRATION_NAME = /^\d{4}-[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * A migration that did not apply. One run is one transaction, so the schema is left as it
 * was before the call, including migrations of the same run that had succeeded.
 */
export class MigrationError extends VitrineError {
  constructor(
    /** The migration that failed, or undefined when the run failed before any started. */
    readonly migrationName: string | undefined,
    cause: unknown,
  ) {
    const what = migrationName === undefined ? 'before any migration ran' : migrationName;
    super('internal', `database migration failed (${what}): ${describe(cause)}`, { cause });
  }
}

/**
 * Brings the schema up to date with the migrations a service ships, keyed by name
 * (`0001-initial`, `0002-findings-history`, …). Safe to call on every start: applied
 * migrations are skipped, and concurrent callers are serialised by Kysely's migration
 * lock. Returns the names applied by this call, in order.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  migrations: Readonly<Record<string, Migration>>,
): Promise<readonly string[]> {
  assertMigrationNames(Object.keys(migrations));
  // Keep the migration bookkeeping in the schema the connection works in (its search_path),
  // so several services sharing one database in separate schemas each keep their own.
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...migrations }) },
    ...(rows[0]?.schema ? { migrationTableSchema: rows[0].schema } : {}),
  });
  const outcome: MigrationResultSet = await migrator.migrateToLatest();
  if (outcome.error !== undefined) {
    const failed = outcome.results?.find((result) => result.status === 'Error');
    throw new MigrationError(failed?.migrationName, outcome.error);
  }
  return (outcome.results ?? []).map((result) => result.migrationName);
}

function assertMigrationNames(names: readonly string[]): void {
  const violations = new FieldViolations();
  for (const name of names) {
    violations.check(MIGRATION_NAME.test(name), name, 'must look like 0001-initial');
  }
  violations.throwIfAny('migration set');
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
