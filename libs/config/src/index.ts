export {
  type EmbeddedDatabaseConfig,
  embeddedDatabaseConfig,
} from './embedded-database-config.js';
export { type HealthConfig, healthConfig } from './health-config.js';
export { parseConfig, readConfigFile } from './parse-config.js';
