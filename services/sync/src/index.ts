export { type SyncConfig, type SyncConfigInput, syncConfigSchema } from './config.js';
export { type Federation, loadFederation } from './federation.js';
export { DEFAULT_LEASE_POLL_MS, SyncLease, type SyncLeaseOptions } from './lease.js';
export {
  federationOf,
  type LeasedSync,
  type RunningSync,
  startLeasedSync,
  startSync,
} from './main.js';
export { type PeerStatus, PeerStatuses } from './peer-status.js';
