/**
 * The end-to-end encrypted channel between centers' sync services: the signed federation
 * manifest that says who may take part, the handshake that authenticates two centers and
 * agrees fresh session keys, and the sealed streams that carry their frames. Pure crypto
 * and protocol: the sync service moves the bytes over gRPC.
 */
export {
  type CenterKeys,
  generateCenterKeys,
  generateKxKeyPair,
  type KxKeyPair,
} from './center-keys.js';
export {
  type AccessTokenKey,
  type FederationCenter,
  type FederationManifest,
  type SignedManifest,
  signManifest,
  verifyManifest,
} from './federation-manifest.js';
export {
  type CenterIdentity,
  type HandshakeOptions,
  type HandshakeRequest,
  type HandshakeResponse,
  initiateHandshake,
  type PendingHandshake,
  type RandomSource,
  respondToHandshake,
} from './handshake.js';
export {
  HANDSHAKE_SKEW_MS,
  type HandshakeReplayOptions,
  HandshakeReplays,
} from './handshake-replays.js';
export type { SessionRole } from './handshake-transcript.js';
export { loadOrCreateKxKeyFile, readKxKeyFile, writeKxKeyFile } from './kx-key-file.js';
export type { FederationManifestDocument } from './manifest-schema.js';
export type { OpenedFrame, SealedReceiver, SealedSender } from './sealed-stream.js';
export {
  type DaysToFix,
  DEFAULT_SERVICE_LEVELS,
  MAX_DAYS_TO_FIX,
  resolveServiceLevels,
  type ServiceLevelPolicy,
  type ServiceLevelsDocument,
  SLA_SEVERITIES,
  type SlaSeverity,
  type SomeDaysToFix,
  serviceLevelsSchema,
} from './service-levels.js';
export type { Session } from './session.js';
