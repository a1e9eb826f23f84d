export {
  CheckpointPublisher,
  type CheckpointPublisherOptions,
  type SignedCheckpoint,
} from './checkpoint-publisher.js';
export { type LogProofService, logProofService } from './log-service.js';
export { type LeafSource, LogStore, type LogStoreOptions, type StoreDb } from './log-store.js';
export { createLogTables, dropLogTables, type LogTables } from './log-tables.js';
export { IMMUTABLE, LOG_PREFIX, type TileHandlerOptions, tileHandler } from './tile-handler.js';
