export {
  CheckpointPublisher,
  type CheckpointPublisherOptions,
  type SignedCheckpoint,
} from './checkpoint-publisher.js';
export {
  type Backoff,
  CosignatureGatherer,
  type Witness,
  type WitnessedLog,
} from './cosignature-gatherer.js';
export {
  CosignatureStore,
  type CosignatureStoreOptions,
  type CosignatureTable,
  type ServedCheckpoint,
} from './cosignature-store.js';
export { ChangeWatch, LogChanges } from './log-changes.js';
export { type LogProofService, logProofService } from './log-service.js';
export { type LeafSource, LogStore, type LogStoreOptions, type StoreDb } from './log-store.js';
export { createLogTables, dropLogTables, type LogTables } from './log-tables.js';
export { IMMUTABLE, LOG_PREFIX, type TileHandlerOptions, tileHandler } from './tile-handler.js';
