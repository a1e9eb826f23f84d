import type { PGlite } from '@electric-sql/pglite';
import { VitrineError } from '@vitrine/errors';
import {
  AbortedTransactionError,
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type TransactionSettings,
} from 'kysely';
import { Mutex } from './mutex.js';
import { PGliteConnection } from './pglite-connection.js';

/** What the PGlite dialect needs: the instance it owns and closes on `db.destroy()`. */
export interface PGliteDialectConfig {
  readonly pglite: PGlite;
}

/**
 * Kysely dialect for PGlite (Postgres compiled to WASM, one backend per instance). It
 * reuses Kysely's Postgres compiler, adapter and introspector, so the SQL is exactly what
 * the `pg` backend runs; only the driver differs.
 *
 * PGlite has a single connection. The driver lends it to one user at a time — a lone
 * query or a whole `db.transaction()` — and queues the rest, so a transaction never sees
 * another caller's statements. Consequence: inside a transaction callback use `trx`,
 * never the outer `db` (that query would wait for the transaction that waits for it).
 * `streamQuery` is not supported and throws; read large results in pages.
 */
export class PGliteDialect implements Dialect {
  readonly #config: PGliteDialectConfig;

  constructor(config: PGliteDialectConfig) {
    this.#config = Object.freeze({ ...config });
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#config.pglite);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's Dialect interface takes Kysely<any>
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

/** Lends PGlite's one connection under a mutex; transactions are plain SQL on it. */
class PGliteDriver implements Driver {
  readonly #pglite: PGlite;
  readonly #connection: PGliteConnection;
  readonly #mutex = new Mutex();
  #release: (() => void) | undefined;
  #destroyed = false;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
    this.#connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#mutex.lock();
    if (this.#destroyed) {
      release();
      throw new VitrineError('unavailable', 'the PGlite database has been closed');
    }
    this.#release = release;
    return this.#connection;
  }

  async beginTransaction(
    connection: DatabaseConnection,
    settings: TransactionSettings,
  ): Promise<void> {
    let sql = 'begin';
    if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) sql += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(sql));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { rows } = await connection.executeQuery<{ command?: string }>(
      CompiledQuery.raw('commit'),
    );
    // PostgreSQL completes COMMIT with a ROLLBACK tag when an earlier error aborted it.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdentifier(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteIdentifier(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteIdentifier(name)}`));
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /** Waits for the current holder and every queued user, then closes PGlite. */
  async destroy(): Promise<void> {
    const release = await this.#mutex.lock();
    try {
      if (this.#destroyed) return;
      this.#destroyed = true;
      await this.#pglite.close();
    } finally {
      release();
    }
  }
}

/** Quotes a savepoint name as a Postgres identifier. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
