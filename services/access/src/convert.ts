import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Action as ActionWord, Scope as CredentialScope } from '@vitrine/credentials';
import {
  type AccessRequest,
  AccessRequestSchema,
  type Action,
  DecisionSchema,
  type Partner,
  PartnerSchema,
  RequestState,
  type Revocation,
  RevocationSchema,
  type Scope,
  ScopeSchema,
} from '@vitrine/proto/access';
import { accessActions } from '@vitrine/proto/enum-words';
import type { Selectable } from 'kysely';
import type { AccessRequestTable, DecisionTable, PartnerTable, RevocationTable } from './schema.js';

/**
 * An access request as stored, with its decisions, once approved its credential, and the
 * revocation that covers that credential if one does.
 */
export interface RequestView {
  readonly row: Selectable<AccessRequestTable>;
  readonly decisions: readonly Selectable<DecisionTable>[];
  readonly token: string | undefined;
  readonly revocation?: Selectable<RevocationTable> | undefined;
}

export function toPartner(row: Selectable<PartnerTable>): Partner {
  return create(PartnerSchema, {
    id: row.id,
    organisation: row.organisation,
    jurisdictions: row.jurisdictions,
    contact: row.contact,
    publicKey: row.public_key,
    registeredAt: timestampFromDate(row.registered_at),
  });
}

const STATES = {
  pending: RequestState.PENDING,
  approved: RequestState.APPROVED,
  denied: RequestState.DENIED,
} as const;

/** A request on the wire: `revoked` once a revocation covers its credential. */
export function toAccessRequest(view: RequestView): AccessRequest {
  const { row, revocation } = view;
  return create(AccessRequestSchema, {
    id: row.id,
    partnerId: row.partner_id,
    jurisdiction: row.jurisdiction,
    scope: toScope(scopeOfRow(row)),
    ...(row.not_before ? { notBefore: timestampFromDate(row.not_before) } : {}),
    expiresAt: timestampFromDate(row.expires_at),
    justification: row.justification,
    state: revocation ? RequestState.REVOKED : STATES[row.state],
    decisions: view.decisions.map((d) =>
      create(DecisionSchema, {
        approver: d.approver,
        approve: d.approve,
        reason: d.reason,
        at: timestampFromDate(d.at),
      }),
    ),
    credentialId: row.credential_id ?? '',
    credential: view.token ?? '',
    requestedBy: row.requested_by,
    createdAt: timestampFromDate(row.created_at),
    approvalsRequired: row.approvals_required,
    ...(revocation ? { revocation: toRevocation(revocation) } : {}),
  });
}

export function toRevocation(row: Selectable<RevocationTable>): Revocation {
  const target = {
    credential: 'credentialId',
    partner: 'partnerId',
    key: 'keyId',
  } as const;
  return create(RevocationSchema, {
    id: row.id,
    target: { case: target[row.target], value: row.target_id },
    reason: row.reason,
    at: timestampFromDate(row.at),
    revokedBy: row.revoked_by,
  });
}

/** The credential scope a stored request grants. */
export function scopeOfRow(row: Selectable<AccessRequestTable>): CredentialScope {
  return {
    kinds: row.scope_kinds as CredentialScope['kinds'],
    products: row.scope_products,
    artifacts: row.scope_artifacts,
    actions: row.scope_actions as ActionWord[],
  };
}

/** A credential scope in its wire form. */
export function toScope(scope: CredentialScope): Scope {
  return create(ScopeSchema, {
    artifactKinds: scope.kinds,
    products: scope.products,
    artifactIds: scope.artifacts,
    actions: scope.actions.map((word) => accessActions.value(word)),
  });
}

/** The action words of wire actions (validated before: every value is known). */
export function actionWords(actions: readonly Action[]): ActionWord[] {
  return [...new Set(actions.map((a) => accessActions.word(a) as ActionWord))];
}
