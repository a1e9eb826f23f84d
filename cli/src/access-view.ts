import type { AccessRequest, Revocation, Scope } from '@vitrine/proto/access';
import { accessActions, requestStates } from '@vitrine/proto/enum-words';
import { isoTime, orNull } from './plain-values.js';
import { formatFields, formatTable } from './text-table.js';

/**
 * An access request as `--json` prints it (the credential token only for its partner), with
 * the revocation covering its credential, or null.
 */
export function requestJson(request: AccessRequest) {
  return {
    id: request.id,
    partnerId: request.partnerId,
    jurisdiction: request.jurisdiction,
    scope: scopeJson(request.scope),
    notBefore: isoTime(request.notBefore),
    expiresAt: isoTime(request.expiresAt),
    justification: request.justification,
    state: requestStates.label(request.state),
    requestedBy: request.requestedBy,
    createdAt: isoTime(request.createdAt),
    approvalsRequired: request.approvalsRequired,
    decisions: request.decisions.map((d) => ({
      approver: d.approver,
      approve: d.approve,
      reason: d.reason,
      at: isoTime(d.at),
    })),
    credentialId: orNull(request.credentialId),
    credential: orNull(request.credential),
    revocation: request.revocation ? revocationJson(request.revocation) : null,
  };
}

function scopeJson(scope: Scope | undefined) {
  return {
    kinds: [...(scope?.artifactKinds ?? [])],
    products: [...(scope?.products ?? [])],
    artifacts: [...(scope?.artifactIds ?? [])],
    actions: (scope?.actions ?? []).map((a) => accessActions.label(a)),
  };
}

/** One line for a scope: `source · router-os · read, review`. */
function scopeLine(scope: Scope | undefined): string {
  const s = scopeJson(scope);
  const part = (label: string, list: readonly string[]) =>
    list.length === 0 ? `any ${label}` : list.join(', ');
  return [
    part('kind', s.kinds),
    part('product', s.products),
    part('artifact', s.artifacts),
    s.actions.join(', '),
  ].join(' · ');
}

/** The lines of `vitrine access show`. */
export function requestDetailLines(request: AccessRequest): string[] {
  const approvals = request.decisions.filter((d) => d.approve).length;
  return [
    ...formatFields([
      ['request', `${request.id} (${requestStates.label(request.state)})`],
      ['partner', request.partnerId],
      ['jurisdiction', request.jurisdiction],
      ['scope', scopeLine(request.scope)],
      [
        'window',
        `${isoTime(request.notBefore) ?? 'from approval'} → ${isoTime(request.expiresAt) ?? '?'}`,
      ],
      ['justification', request.justification],
      ['requested by', `${request.requestedBy} at ${isoTime(request.createdAt) ?? '?'}`],
      ['approvals', `${approvals} of ${request.approvalsRequired}`],
      ['credential', request.credentialId],
      ...revocationField(request.revocation),
    ]),
    ...request.decisions.map(
      (d) =>
        `  ${d.approve ? 'approved' : 'denied'} by ${d.approver} at ${isoTime(d.at) ?? '?'}: ${d.reason}`,
    ),
  ];
}

/** `revoked  <when> by <whom>: <reason> (<what>, <id>)`, when the credential is revoked. */
function revocationField(revocation: Revocation | undefined): [string, string][] {
  if (!revocation) return [];
  const { target, targetId, at } = revocationJson(revocation);
  const what = `${target?.replace('Id', '')} ${targetId}`;
  return [
    [
      'revoked',
      `${at ?? '?'} by ${revocation.revokedBy}: ${revocation.reason} (${what}, ${revocation.id})`,
    ],
  ];
}

/** The table of `vitrine access ls`. */
export function requestTableLines(requests: readonly AccessRequest[]): string[] {
  if (requests.length === 0) return ['no access requests'];
  return formatTable(
    ['id', 'state', 'partner', 'jur', 'expires', 'scope'],
    requests.map((r) => [
      r.id,
      requestStates.label(r.state),
      r.partnerId,
      r.jurisdiction,
      isoTime(r.expiresAt) ?? '',
      scopeLine(r.scope),
    ]),
  );
}

/** A revocation as `--json` prints it. */
export function revocationJson(revocation: Revocation) {
  return {
    id: revocation.id,
    target: revocation.target.case ?? null,
    targetId: revocation.target.value ?? null,
    reason: revocation.reason,
    revokedBy: revocation.revokedBy,
    at: isoTime(revocation.at),
  };
}

/** The table of `vitrine access revocations`. */
export function revocationTableLines(revocations: readonly Revocation[]): string[] {
  if (revocations.length === 0) return ['no revocations'];
  return formatTable(
    ['id', 'at', 'revoked', 'by', 'reason'],
    revocations.map((r) => {
      const json = revocationJson(r);
      return [
        r.id,
        json.at ?? '',
        `${json.target?.replace('Id', '')} ${json.targetId}`,
        r.revokedBy,
        r.reason,
      ];
    }),
  );
}
