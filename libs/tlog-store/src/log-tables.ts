import { type Kysely, sql } from 'kysely';

/**
 * Where a log store keeps one or more transparency logs: four tables, named by the service
 * that owns them (the access service uses `access_log_*`). Several logs may share the
 * tables, told apart by the log column (`log` unless `logColumn` names another).
 *
 * | table         | columns                                         | key               |
 * | ------------- | ----------------------------------------------- | ----------------- |
 * | `nodes`       | log text, level int4, idx int8, hash bytea      | (log, level, idx) |
 * | `leaves`      | log text, idx int8, leaf bytea                  | (log, idx)        |
 * | `heads`       | log text, size int8                             | (log)             |
 * | `checkpoints` | log text, size int8, root bytea, note text      | (log, size)       |
 *
 * `nodes` holds every complete subtree's hash (level 0: the leaf hashes), so roots, proofs
 * and hash tiles are read, never recomputed. `heads` holds each log's size; appending
 * updates it first, which serialises appends to one log across processes.
 */
export interface LogTables {
  readonly nodes: string;
  readonly leaves: string;
  readonly heads: string;
  readonly checkpoints: string;
  /** The column naming the log in every table; `log` by default. */
  readonly logColumn?: string;
  /** The column of `heads` holding the size; `size` by default. */
  readonly sizeColumn?: string;
}

/**
 * Creates a store's four tables (schema version 1). Call it from the owning service's
 * migration; what it creates never changes — a later layout comes as a new function.
 */
export async function createLogTables(db: Kysely<unknown>, tables: LogTables): Promise<void> {
  const log = tables.logColumn ?? 'log';
  await db.schema
    .createTable(tables.nodes)
    .addColumn(log, 'text', (c) => c.notNull())
    .addColumn('level', 'int4', (c) => c.notNull())
    .addColumn('idx', 'int8', (c) => c.notNull())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${tables.nodes}_pk`, [log, 'level', 'idx'] as never)
    .execute();
  await db.schema
    .createTable(tables.leaves)
    .addColumn(log, 'text', (c) => c.notNull())
    .addColumn('idx', 'int8', (c) => c.notNull())
    .addColumn('leaf', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${tables.leaves}_pk`, [log, 'idx'] as never)
    .execute();
  await db.schema
    .createTable(tables.heads)
    .addColumn(log, 'text', (c) => c.primaryKey())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addCheckConstraint(`${tables.heads}_size`, sql`size >= 0`)
    .execute();
  await db.schema
    .createTable(tables.checkpoints)
    .addColumn(log, 'text', (c) => c.notNull())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('root', 'bytea', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${tables.checkpoints}_pk`, [log, 'size'] as never)
    .execute();
}

/** Drops what `createLogTables` made (a migration's `down`). */
export async function dropLogTables(db: Kysely<unknown>, tables: LogTables): Promise<void> {
  for (const table of [tables.checkpoints, tables.heads, tables.leaves, tables.nodes]) {
    await db.schema.dropTable(table).execute();
  }
}
