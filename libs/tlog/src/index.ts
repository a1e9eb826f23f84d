export { witnessKey, witnessKeyOfLog, witnessName, witnessSigner } from './center-witness.js';
export { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.js';
export {
  type CosignaturePolicy,
  type CosignedCheckpoint,
  verifyCosignedCheckpoint,
} from './cosigned-checkpoint.js';
export { LogError, type LogErrorReason } from './log-error.js';
export { EMPTY_ROOT, HASH_SIZE, hashChildren, hashLeaf } from './merkle-hash.js';
export {
  formatVerifierKey,
  keyIdOf,
  type NoteKey,
  type NoteSigner,
  noteKey,
  noteSigner,
  parseSignerKey,
  parseVerifierKey,
  SignatureType,
} from './note-keys.js';
export { verifyConsistency, verifyInclusion } from './proof-verification.js';
export {
  cosignatureLine,
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  type NoteSignature,
  type OpenedNote,
  openNote,
  type ParsedNote,
  parseNote,
  signNote,
  type VerifiedSignature,
  withSignatureLines,
} from './signed-note.js';
export {
  decodeEntryBundle,
  encodeEntryBundle,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type Tile,
  tileNodes,
  tilePath,
  tileWidthAt,
} from './tile-path.js';
export { formatTlogProof, parseTlogProof, type TlogProof } from './tlog-proof.js';
export { hashesToStore, type StoredHash } from './tree-appender.js';
export {
  completeSubtrees,
  consistencyProof,
  type HashReader,
  inclusionProof,
  type NodeId,
  treeRoot,
} from './tree-prover.js';
export {
  ADD_CHECKPOINT_PATH,
  type AddCheckpointRequest,
  formatAddCheckpoint,
  MAX_ADD_CHECKPOINT_BYTES,
  MAX_PROOF_LINES,
  parseAddCheckpoint,
  parseTreeSize,
  TREE_SIZE_CONTENT_TYPE,
} from './witness-protocol.js';
