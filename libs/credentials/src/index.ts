export {
  type CallAuth,
  callAuthInterceptor,
  credentialOf,
  procedureOf,
  proofSubjectOf,
} from './call-auth.js';
export {
  type AuthenticatedCaller,
  type Caller,
  callerKey,
  principalName,
} from './caller.js';
export {
  ANY_JURISDICTION,
  type Credential,
  CredentialError,
  DEFAULT_SKEW_SECONDS,
  footerKeyId,
  ISSUER,
  issueCredential,
  type Principal,
  type ReadOptions,
  ROLES,
  type Role,
  readCredential,
  TokenKeyring,
  type TokenSigner,
} from './credential.js';
export {
  base64url,
  keyIdOf,
  publicKeyOfPaserk,
  publicPaserk,
  secretPaserk,
  strictBase64url,
} from './paserk.js';
export {
  ACCESS_AUDIENCE,
  CREDENTIAL_HEADER,
  DEFAULT_PROOF_SKEW_MS,
  PRINCIPAL_HEADER,
  PROOF_DOMAIN,
  PROOF_HEADER,
  type ProofCheck,
  type ProofSubject,
  proofMessage,
  signProof,
  verifyProof,
} from './proof.js';
export { MemoryReplayGuard, type ReplayGuard } from './replay-guard.js';
export { firstMessageOf, requestDigest } from './request-digest.js';
export {
  ACTIONS,
  type Action,
  ARTIFACT_KINDS,
  type ArtifactKindWord,
  type Scope,
  scopeAllows,
  scopeCovers,
  scopeSchema,
} from './scope.js';
export {
  decodeSignedSnapshot,
  encodeSignedSnapshot,
  signTrustSnapshot,
  TRUST_DOMAIN,
  verifyTrustSnapshot,
} from './trust-snapshot.js';
