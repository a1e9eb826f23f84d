import type { PGlite, Results } from '@electric-sql/pglite';
import { VitrineError } from '@vitrine/errors';
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';

/** Statement tags whose row count Kysely reports as `numAffectedRows`. */
const COUNTED_COMMANDS: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * Kysely's view of the one PGlite backend. The driver hands it out to a single user at a
 * time; it does no locking of its own.
 *
 * Statements without parameters go through PGlite's simple-query path (`exec`), as
 * node-postgres does, so a migration that runs several statements in one `sql` string
 * behaves the same on both backends; statements with parameters use the extended
 * protocol (`query`).
 */
export class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    const result: Results =
      parameters.length === 0
        ? lastResult(await this.#pglite.exec(sql, { rowMode: 'object' }))
        : await this.#pglite.query(sql, [...parameters], { rowMode: 'object' });
    return toQueryResult<R>(result);
  }

  /**
   * Not supported: streaming would hold PGlite's only connection for as long as the
   * consumer keeps reading, stalling every other query of the center, and the `pg`
   * backend is configured without `pg-cursor`. Read large results in keyset pages.
   */
  // biome-ignore lint/correctness/useYield: throws before the first row, by design
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new VitrineError(
      'internal',
      'streaming queries are not supported by vitrine storage; read in keyset-paginated pages',
    );
  }
}

function lastResult(results: Results[]): Results {
  return results[results.length - 1] ?? { rows: [], fields: [] };
}

/** Maps PGlite's result to Kysely's, mirroring Kysely's own PostgresConnection. */
function toQueryResult<R>(result: Results): QueryResult<R> {
  const command = result.command ?? '';
  const rows = result.rows as R[];
  if (command === 'COMMIT' || command === 'ROLLBACK') {
    return { rows: [{ command } as R] };
  }
  if (!COUNTED_COMMANDS.has(command)) return { rows };
  return { rows, numAffectedRows: BigInt(result.rowCount ?? result.affectedRows ?? 0) };
}
