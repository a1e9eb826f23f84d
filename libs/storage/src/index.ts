export { MigrationError, migrateToLatest } from './migrate.js';
export {
  type Database,
  type DatabaseKind,
  type DatabaseOptions,
  openDatabase,
} from './open-database.js';
export { PGliteDialect, type PGliteDialectConfig } from './pglite-dialect.js';
