export { syncDirectory, writeFileAtomically } from './atomic-file.js';
export {
  applyPatch,
  type ChunkPatch,
  MIN_PATCH_SAVING,
  type PatchBase,
  patchOf,
} from './chunk-patch.js';
export {
  CHUNK_FILE_MODE,
  ChunkStore,
  type ChunkStoreOptions,
  type PutResult,
  type ReadOptions,
} from './chunk-store.js';
export {
  type ChunkerParams,
  DEFAULT_CHUNKER_PARAMS,
} from './chunker-params.js';
export { Chunker, chunkStream } from './fastcdc.js';
export { readAhead } from './read-ahead.js';
export {
  canReleaseMemory,
  RELEASE_MEMORY_NODE_FLAGS,
  releaseMemory,
  SharedRelease,
} from './release-memory.js';
export {
  loadS3Credentials,
  S3_CREDENTIAL_ENV,
  type S3ChunkSettings,
  type S3Credentials,
} from './s3-settings.js';
