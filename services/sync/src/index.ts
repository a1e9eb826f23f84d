export { type SyncConfig, type SyncConfigInput, syncConfigSchema } from './config.js';
export { type RunningSync, startSync } from './main.js';
