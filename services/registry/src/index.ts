export type { CosignatureStore as Cosignatures, ServedCheckpoint } from '@vitrine/tlog-store';
export { seedTrustSnapshot, trustFilePath } from './access/center-access.js';
export { artifactId, MANIFEST_DOMAIN } from './artifacts.js';
export { type ChunkBase, MAX_BASE_RUN } from './chunk-replica/chunk-bases.js';
export type { ChunkReceipt } from './chunk-replica/chunk-recorder.js';
export { ChunkReplica, type ServedChunk } from './chunk-replica/index.js';
export {
  CENTER_ID,
  JURISDICTION,
  type RegistryConfig,
  type RegistryConfigInput,
  registryConfigSchema,
} from './config.js';
export type { IngestOutcome, IngestReport } from './event-ingest.js';
export { type RunningRegistry, startRegistry } from './main.js';
export type { EventRef } from './queries/events.js';
export { type PeerScope, Replica, type VersionVector } from './replica.js';
export type {
  CheckpointPublisher,
  SignedCheckpoint,
} from './transparency/checkpoint-publisher.js';
export type {
  CheckpointWitness,
  ConsistencyProver,
  LogEvidence,
  Observation,
} from './transparency/checkpoint-witness.js';
export {
  type FederationMember,
  type KnownLog,
  knownLogs,
  witnessKey,
  witnessName,
} from './transparency/known-logs.js';
export { ADD_CHECKPOINT_PATH } from './transparency/witness-resource.js';
export type { PendingBody } from './unapplied-events.js';
