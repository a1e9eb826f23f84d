import type { Interceptor, StreamRequest, UnaryRequest } from '@connectrpc/connect';
import {
  ANY_JURISDICTION,
  type Caller,
  type Credential,
  callerKey,
  credentialOf,
  firstMessageOf,
  PROOF_HEADER,
  procedureOf,
  proofSubjectOf,
  type ReplayGuard,
  readCredential,
  verifyProof,
} from '@vitrine/credentials';
import { isVitrineError, VitrineError } from '@vitrine/errors';
import { AccessOutcome } from '@vitrine/proto/event';
import { grpcCodeFor, type Logger } from '@vitrine/rpc';
import { AccessGrant, grantKey, ScopeRefusal } from './access-grant.js';
import { accessMetrics } from './access-metrics.js';
import type { AccessRecorder } from './access-recorder.js';
import { type Attribution, attributionOf } from './credential-attribution.js';
import type { CredentialCache } from './credential-cache.js';
import { isEnforced, type MethodAction, methodActionOf } from './method-actions.js';
import type { TrustState } from './trust-state.js';

type Call = UnaryRequest | StreamRequest;

/** What a center checks calls against. */
export interface AccessChecks {
  readonly center: { readonly id: string; readonly jurisdiction: string };
  readonly trust: TrustState;
  readonly replays: ReplayGuard;
  readonly recorder: AccessRecorder;
  /** Credentials already verified; check 1 is skipped for a token found here. */
  readonly credentials: CredentialCache;
  readonly logger: Logger;
  /** Clock skew tolerated on a credential's `nbf`/`exp`, in seconds. */
  readonly skewSeconds: number;
  readonly now?: () => number;
}

/**
 * Enforces access on every RegistryService call and the LogService calls whose answer
 * depends on the caller (`isEnforced`; health and reflection stay open), in this
 * order: (1) credential signature under a known key, (2) validity window (UNAUTHENTICATED);
 * (3) this center in `aud`, (4) this center's jurisdiction in `jur` (PERMISSION_DENIED);
 * (5) not revoked, (6) proof of possession — signed by the holder key over this call's
 * method and request (a stream's first message), made for this center, fresh, not replayed
 * at any process of this center (UNAUTHENTICATED; docs/proof-of-possession.md); then (7) the
 * action — publishing needs an operator credential with the `operator` role, everything
 * else the scope's action, checked against the artifacts by the handler (PERMISSION_DENIED;
 * to a partner, an artifact or finding its scope hides answers NOT_FOUND like a missing
 * one). A partner call is recorded as an AccessUsed event, allowed or refused, only once its
 * credential and its proof of possession have verified: only then did the holder of the key
 * make it. A call refused before that is logged and counted under the principal its
 * credential claims, never recorded in the signed log, so a copied token without its key
 * cannot write events in its holder's name.
 */
export function accessInterceptor(checks: AccessChecks): Interceptor {
  return (next) => async (req) => {
    if (!isEnforced(req)) return next(req);
    const token = credentialOf(req.header);
    let claimed: Attribution | undefined;
    let who: Attribution | undefined;
    let grant: AccessGrant;
    let caller: Caller;
    let call: Call;
    try {
      const credential = await verifiedCredential(token, checks);
      claimed = attributionOf(credential);
      call = await checkCredential(req, token as string, credential, checks);
      who = claimed;
      grant = new AccessGrant(who.principal, credential.scope);
      caller = { ...credential.subject, roles: credential.roles };
      checkAction(actionOf(req), credential, grant);
    } catch (err) {
      await recordOutcome(checks, req, who ?? claimed, who !== undefined, undefined, err);
      throw err;
    }
    req.contextValues.set(grantKey, grant);
    req.contextValues.set(callerKey, caller);
    return recordedCall(checks, req, who, grant, () => next(call));
  };
}

/**
 * Checks 1 to 6 on a call to any service of this center: the credential it carries, from
 * its signature to its proof of possession. Returns the credential they passed.
 */
export async function authenticateCall(req: Call, checks: AccessChecks): Promise<Credential> {
  const token = credentialOf(req.header);
  const credential = await verifiedCredential(token, checks);
  await checkCredential(req, token as string, credential, checks);
  return credential;
}

/**
 * Checks 1 and 2: signature under a known token key, then the validity window. A token
 * verified before under the trust snapshot in force needs only the window checked again.
 */
async function verifiedCredential(token: string | undefined, checks: AccessChecks) {
  if (!token) {
    throw new VitrineError(
      'unauthenticated',
      'this call needs a credential (authorization: Bearer)',
    );
  }
  const now = new Date((checks.now ?? Date.now)());
  const version = checks.trust.version;
  const cached = checks.credentials.get(token, version, now);
  if (cached) return cached;
  const { keyring } = checks.trust;
  const credential = await readCredential(token, keyring, { now, skewSeconds: checks.skewSeconds });
  checks.credentials.set(token, version, credential);
  return credential;
}

/**
 * Checks 3 to 6: audience, jurisdiction, revocation, proof of possession. Returns the call
 * to pass on: a stream's first message is read to check the proof, and replayed to the handler.
 */
async function checkCredential(
  req: Call,
  token: string,
  credential: Credential & { keyId: string },
  checks: AccessChecks,
): Promise<Call> {
  const { center } = checks;
  if (!credential.audience.includes(center.id)) {
    throw new VitrineError('permission_denied', `credential is not valid at center ${center.id}`);
  }
  const anywhere = credential.jurisdiction === ANY_JURISDICTION;
  if (
    anywhere
      ? credential.subject.kind !== 'operator'
      : credential.jurisdiction !== center.jurisdiction
  ) {
    throw new VitrineError(
      'permission_denied',
      `credential is for jurisdiction ${credential.jurisdiction}; center ${center.id} is in ${center.jurisdiction}`,
    );
  }
  if (checks.trust.isRevoked(credential)) {
    throw new VitrineError('unauthenticated', 'credential has been revoked');
  }
  const { call, message } = await firstMessageOf(req);
  await verifyProof(req.header.get(PROOF_HEADER), proofSubjectOf(req, message, center.id, token), {
    publicKey: credential.holderKey,
    replays: checks.replays,
    ...(checks.now ? { now: checks.now() } : {}),
  });
  return call;
}

/** Check 7, as far as it goes before the handler looks at artifacts. */
function checkAction(action: MethodAction, credential: Credential, grant: AccessGrant): void {
  if (action !== 'publish') {
    grant.requireAction(action);
  } else if (credential.subject.kind !== 'operator' || !credential.roles.includes('operator')) {
    throw new ScopeRefusal('publishing artifacts needs an operator credential with role operator');
  }
}

function actionOf(req: Call): MethodAction {
  const action = methodActionOf(req);
  if (!action) throw new VitrineError('internal', `no access rule for ${procedureOf(req.method)}`);
  return action;
}

/** Runs the handler and records the outcome once it is known (after the stream, for streams). */
async function recordedCall<T extends { stream: boolean; message: unknown }>(
  checks: AccessChecks,
  req: Call,
  who: Attribution,
  grant: AccessGrant,
  handle: () => Promise<T>,
): Promise<T> {
  let res: T;
  try {
    res = await handle();
  } catch (err) {
    await recordOutcome(checks, req, who, true, grant, err);
    throw err;
  }
  if (!res.stream) {
    await recordOutcome(checks, req, who, true, grant);
    return res;
  }
  const messages = res.message as AsyncIterable<unknown>;
  async function* recorded() {
    let failure: unknown;
    try {
      yield* messages;
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      await recordOutcome(checks, req, who, true, grant, failure);
    }
  }
  return { ...res, message: recorded() };
}

/**
 * Counts the call and, for a partner whose proof of possession verified (`proven`), appends
 * its AccessUsed event. A refusal is an access check's error (or the handler's
 * ScopeRefusal); any other failure happened after access was allowed. Other calls are
 * logged and counted only, under the principal their credential claims if its signature
 * verified.
 */
async function recordOutcome(
  checks: AccessChecks,
  req: Call,
  who: Attribution | undefined,
  proven: boolean,
  grant: AccessGrant | undefined,
  failure?: unknown,
): Promise<void> {
  const refusal = grant === undefined || failure instanceof ScopeRefusal ? failure : undefined;
  const code = isVitrineError(refusal) ? grpcCodeFor(refusal.code) : 0;
  const method = procedureOf(req.method);
  accessMetrics.calls.add(1, {
    outcome: refusal ? 'refused' : 'allowed',
    code,
    attributed: proven,
  });
  if (refusal) {
    const reason = reasonOf(refusal) || 'internal error';
    const principal = who?.principal;
    const fields = proven
      ? { method, principal, code, reason }
      : { method, claimed: principal, code, reason };
    checks.logger[proven ? 'info' : 'warn'](fields, 'call refused');
  }
  if (!proven || !who?.partner) return;
  const subject = grant?.subject ?? { artifactId: '', findingId: '', residency: [] };
  await checks.recorder.record({
    use: {
      principal: who.principal,
      credentialId: who.credentialId,
      method,
      artifactId: subject.artifactId,
      findingId: subject.findingId,
      outcome: refusal ? AccessOutcome.REFUSED : AccessOutcome.ALLOWED,
      refusalCode: code,
      refusalReason: reasonOf(refusal),
    },
    residency: subject.residency,
  });
}

/** The precise reason of a refusal, for the log and AccessUsed (a hidden one's real cause). */
function reasonOf(refusal: unknown): string {
  if (refusal instanceof ScopeRefusal) return refusal.reason;
  return isVitrineError(refusal) ? refusal.message : '';
}
