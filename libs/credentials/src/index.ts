export {
  type CallAuth,
  callAuthInterceptor,
  credentialOf,
  procedureOf,
  proofSubjectOf,
} from './call-auth.js';
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
  CREDENTIAL_HEADER,
  DEFAULT_PROOF_SKEW_MS,
  PRINCIPAL_HEADER,
  PROOF_HEADER,
  type ProofCheck,
  type ProofSubject,
  ReplayGuard,
  signProof,
  verifyProof,
} from './proof.js';
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
