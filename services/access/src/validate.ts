import { timestampDate } from '@bufbuild/protobuf/wkt';
import { ARTIFACT_KINDS } from '@vitrine/credentials';
import { FieldViolations } from '@vitrine/errors';
import {
  Action,
  type DecideAccessRequestRequest,
  type GetDecisionReceiptRequest,
  type RegisterPartnerRequest,
  type RequestAccessRequest,
  type RevokeRequest,
} from '@vitrine/proto/access';
import { OPERATOR_NAME } from './config.js';

/** Ids this service makes: `p-…` partners, `r-…` requests, `c-…` credentials, `v-…` revocations. */
export const PARTNER_ID = /^p-[0-9a-f]{12}$/;
export const REQUEST_ID = /^r-[0-9a-f]{20}$/;
export const CREDENTIAL_ID = /^c-[0-9a-f]{24}$/;
/** PASERK k4.pid key ids. */
export const KEY_ID = /^k4\.pid\.[A-Za-z0-9_-]{44}$/;

const LIMITS = { text: 200, justification: 2000, reason: 2000, scopeEntry: 128, scopeList: 100 };

/** Checks a self-service registration; `jurisdictions` are the codes that have a policy. */
export function assertRegisterPartner(
  req: RegisterPartnerRequest,
  jurisdictions: readonly string[],
): void {
  const v = new FieldViolations();
  checkText(v, 'organisation', req.organisation, LIMITS.text);
  checkText(v, 'contact', req.contact, LIMITS.text);
  v.check(req.jurisdictions.length > 0, 'jurisdictions', 'name at least one');
  req.jurisdictions.forEach((code, i) => {
    v.check(
      jurisdictions.includes(code),
      `jurisdictions[${i}]`,
      `unknown jurisdiction "${code}" (known: ${jurisdictions.join(', ')})`,
    );
  });
  v.check(
    new Set(req.jurisdictions).size === req.jurisdictions.length,
    'jurisdictions',
    'lists a jurisdiction twice',
  );
  v.check(req.publicKey.length === 32, 'public_key', 'must be a 32-byte Ed25519 public key');
  v.throwIfAny();
}

/** Checks the shape of an access request; the policy checks come after (AccessRequests). */
export function assertRequestAccess(req: RequestAccessRequest): void {
  const v = new FieldViolations();
  v.check(
    req.partnerId === '' || PARTNER_ID.test(req.partnerId),
    'partner_id',
    'must be a partner id',
  );
  v.check(req.jurisdiction !== '', 'jurisdiction', 'is required');
  if (req.scope === undefined) v.add('scope', 'is required');
  else {
    const { artifactKinds, products, artifactIds, actions } = req.scope;
    artifactKinds.forEach((kind, i) => {
      v.check(
        (ARTIFACT_KINDS as readonly string[]).includes(kind),
        `scope.artifact_kinds[${i}]`,
        `must be one of ${ARTIFACT_KINDS.join(', ')}`,
      );
    });
    checkList(v, 'scope.products', products);
    checkList(v, 'scope.artifact_ids', artifactIds);
    v.check(actions.length > 0, 'scope.actions', 'name at least one of read, review, comment');
    actions.forEach((action, i) => {
      v.check(
        action !== Action.UNSPECIFIED && Action[action] !== undefined,
        `scope.actions[${i}]`,
        'must be read, review or comment',
      );
    });
  }
  v.check(req.expiresAt !== undefined, 'expires_at', 'is required');
  if (req.expiresAt && req.notBefore) {
    v.check(
      timestampDate(req.expiresAt) > timestampDate(req.notBefore),
      'expires_at',
      'must be after not_before',
    );
  }
  checkText(v, 'justification', req.justification, LIMITS.justification);
  v.throwIfAny();
}

/** Checks an approval or denial. */
export function assertDecide(req: DecideAccessRequestRequest): void {
  const v = new FieldViolations();
  v.check(REQUEST_ID.test(req.requestId), 'request_id', 'must be a request id such as r-…');
  checkText(v, 'reason', req.reason, LIMITS.reason);
  v.throwIfAny();
}

/** Checks a revocation: exactly one target, well formed, and a reason. */
export function assertRevoke(req: RevokeRequest): void {
  const v = new FieldViolations();
  const { target } = req;
  switch (target.case) {
    case 'credentialId':
      v.check(CREDENTIAL_ID.test(target.value), 'credential_id', 'must be a credential id');
      break;
    case 'partnerId':
      v.check(PARTNER_ID.test(target.value), 'partner_id', 'must be a partner id');
      break;
    case 'keyId':
      v.check(KEY_ID.test(target.value), 'key_id', 'must be a k4.pid key id');
      break;
    case undefined:
      v.add('target', 'name a credential_id, partner_id or key_id');
      break;
    default:
      throw new Error(`unknown revocation target ${String((target as { case: unknown }).case)}`);
  }
  checkText(v, 'reason', req.reason, LIMITS.reason);
  v.throwIfAny();
}

/** Checks a list's filters: ids well formed, the time range in order. */
export function assertListFilter(filter: {
  partnerId: string;
  approver?: string;
  since?: Date | undefined;
  until?: Date | undefined;
}): void {
  const v = new FieldViolations();
  v.check(
    filter.partnerId === '' || PARTNER_ID.test(filter.partnerId),
    'partner_id',
    'must be a partner id',
  );
  const approver = filter.approver ?? '';
  v.check(
    approver === '' || OPERATOR_NAME.test(approver.replace(/^operator:/, '')),
    'approver',
    'must be an operator name',
  );
  v.check(
    !filter.since || !filter.until || filter.since <= filter.until,
    'until',
    'must not be before since',
  );
  v.throwIfAny();
}

function checkText(v: FieldViolations, field: string, value: string, max: number): void {
  if (value.trim() === '') v.add(field, 'is required');
  else if (value.length > max) v.add(field, `at most ${max} characters`);
}

function checkList(v: FieldViolations, field: string, values: readonly string[]): void {
  v.check(values.length <= LIMITS.scopeList, field, `at most ${LIMITS.scopeList} entries`);
  values.forEach((value, i) => {
    v.check(
      value.length > 0 && value.length <= LIMITS.scopeEntry,
      `${field}[${i}]`,
      `1 to ${LIMITS.scopeEntry} characters`,
    );
  });
}

/** Checks that a receipt request names one decision, by a well-formed index or id. */
export function assertDecisionSubject(req: GetDecisionReceiptRequest): void {
  const v = new FieldViolations();
  const { subject } = req;
  if (subject.case === undefined)
    v.add('subject', 'name the decision: leaf_index, request_id or credential_id');
  if (subject.case === 'requestId')
    v.check(REQUEST_ID.test(subject.value), 'request_id', 'must be a request id such as r-…');
  if (subject.case === 'credentialId') {
    v.check(
      CREDENTIAL_ID.test(subject.value),
      'credential_id',
      'must be a credential id such as c-…',
    );
  }
  v.throwIfAny();
}
