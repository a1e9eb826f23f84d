export { copyCluster } from './copy-cluster.js';
export { databaseReadiness } from './database-readiness.js';
export { MigrationError, migrateToLatest } from './migrate.js';
export { Mutex } from './mutex.js';
export {
  type Database,
  type DatabaseKind,
  type DatabaseOptions,
  openDatabase,
} from './open-database.js';
export {
  afterCursor,
  decodePageToken,
  encodePageToken,
  type PageCursor,
  pageSize,
  paginate,
} from './pages.js';
export {
  type ClusterSource,
  createPGliteClusters,
  installedPGliteVersion,
  isPGliteCluster,
  PGLITE_TEMPLATE_ENV,
} from './pglite-cluster.js';
export { PGliteDialect, type PGliteDialectConfig } from './pglite-dialect.js';
export { PGLITE_SETTINGS, pgliteStartParams } from './pglite-settings.js';
