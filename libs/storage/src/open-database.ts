import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { VitrineError } from '@vitrine/errors';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { pgliteParsers, pgTypeParsers } from './column-types.js';
import { createPGliteClusters } from './pglite-cluster.js';
import { PGliteDialect } from './pglite-dialect.js';
import { pgliteStartParams } from './pglite-settings.js';

/**
 * Where a center keeps its state. `url` (`postgres://…`) selects a PostgreSQL server and
 * wins over `dataDir`; otherwise PGlite stores its files in `dataDir` (created if
 * missing), or in memory when `dataDir` is absent (tests, demos).
 */
export interface DatabaseOptions {
  readonly url?: string | undefined;
  readonly dataDir?: string | undefined;
  /** Pool size for the `pg` backend (default 10); PGlite always has one connection. */
  readonly maxConnections?: number | undefined;
  /**
   * Told when the `pg` pool drops an idle connection whose server went away (restart,
   * failover); the pool reconnects on demand. Default: ignored.
   */
  readonly onConnectionError?: ((error: Error) => void) | undefined;
  /**
   * PGlite's buffer pool, a size such as `8MB`, instead of `shared_buffers` in
   * `PGLITE_SETTINGS`; ignored with `url`.
   */
  readonly sharedBuffers?: string | undefined;
}

/** Which engine a database runs on, for logs and health output. */
export type DatabaseKind = 'pglite' | 'postgres';

/**
 * An open database. `db` behaves the same on both kinds: int8 → bigint, bytea →
 * Uint8Array, timestamptz → Date, date → 'YYYY-MM-DD', numeric → string.
 */
export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly kind: DatabaseKind;
  /** Waits for queries in flight, then closes the pool or the PGlite instance. */
  close(): Promise<void>;
}

/**
 * Opens a center's database, embedded or on a server, with the same value mapping on
 * both. The `pg` backend is checked with a round trip so a bad URL fails at start-up with
 * `unavailable` rather than on the first request.
 */
export async function openDatabase<DB>(options: DatabaseOptions): Promise<Database<DB>> {
  if (options.url !== undefined) return openPostgres<DB>(options.url, options);
  if (options.dataDir === undefined) return openPGlite<DB>(undefined, options.sharedBuffers);
  return openPGliteFolder<DB>(resolve(options.dataDir), options.sharedBuffers);
}

/**
 * PGlite folders open in this process. PGlite writes `postmaster.pid` but does not honour
 * it, and two instances on one folder corrupt it, so a second open is refused here.
 * (Separate processes on one folder are not detected: one process per center folder.)
 */
const openFolders = new Set<string>();

async function openPGliteFolder<DB>(
  folder: string,
  sharedBuffers: string | undefined,
): Promise<Database<DB>> {
  if (openFolders.has(folder)) {
    throw new VitrineError('failed_precondition', 'this PGlite data folder is already open');
  }
  openFolders.add(folder);
  try {
    await createPGliteClusters([folder]);
    const database = await openPGlite<DB>(folder, sharedBuffers);
    const close = () => database.close().finally(() => openFolders.delete(folder));
    return { ...database, close };
  } catch (err) {
    openFolders.delete(folder);
    throw err;
  }
}

async function openPGlite<DB>(
  folder: string | undefined,
  sharedBuffers: string | undefined,
): Promise<Database<DB>> {
  const pglite = await PGlite.create({
    ...(folder === undefined ? {} : { dataDir: folder }),
    parsers: pgliteParsers,
    startParams: pgliteStartParams(sharedBuffers),
  });
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  return { db, kind: 'pglite', close: () => db.destroy() };
}

async function openPostgres<DB>(url: string, options: DatabaseOptions): Promise<Database<DB>> {
  const where = describeUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    types: pgTypeParsers(),
  });
  // Without a listener the pool's 'error' event (an idle client losing its server, as
  // on restart or DROP DATABASE … WITH (FORCE)) would end the process.
  const onConnectionError = options.onConnectionError;
  pool.on('error', (error) => onConnectionError?.(error));
  try {
    await pool.query('select 1');
  } catch (cause) {
    await pool.end().catch(() => {});
    throw new VitrineError('unavailable', `cannot reach PostgreSQL at ${where}`, { cause });
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/** host:port/database of a connection URL, without credentials, for error messages. */
function describeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VitrineError('invalid_argument', 'database url is not a valid URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new VitrineError('invalid_argument', 'database url must start with postgres://');
  }
  return `${parsed.host}${parsed.pathname}`;
}
