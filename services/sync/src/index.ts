export { type SyncConfig, type SyncConfigInput, syncConfigSchema } from './config.js';
export { type Federation, loadFederation } from './federation.js';
export { federationOf, type RunningSync, startSync } from './main.js';
export { type PeerStatus, PeerStatuses } from './peer-status.js';
