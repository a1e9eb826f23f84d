import { randomBytes } from 'node:crypto';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { ArtifactKindWord } from '@vitrine/credentials';
import { type AuthenticatedCaller, principalName } from '@vitrine/credentials';
import { invalidField, VitrineError } from '@vitrine/errors';
import type { DecideAccessRequestRequest, RequestAccessRequest } from '@vitrine/proto/access';
import { DecisionKind } from '@vitrine/proto/access-decision';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { mayActFor, requireOperator } from './caller.js';
import { actionWords, type RequestView, scopeOfRow } from './convert.js';
import type { CredentialIssuer } from './credential-issuer.js';
import type { DecisionLog } from './decision-log.js';
import { findPartner, lockPartner } from './partners.js';
import type { Policies } from './policies.js';
import { requestViews } from './request-listing.js';
import type { AccessDatabase, AccessRequestTable, PartnerTable } from './schema.js';

type Db = Kysely<AccessDatabase> | Transaction<AccessDatabase>;
type RequestRow = Selectable<AccessRequestTable>;

/**
 * Access requests and their decisions: a partner (or an operator on its behalf) asks for
 * a scope in one jurisdiction; approvers decide. The N-th distinct approval issues the
 * credential in the same transaction; any denial is final. Nothing here is ever deleted.
 * Each request and each decision is a leaf of the access log, in its own transaction.
 */
export class AccessRequests {
  constructor(
    private readonly db: Kysely<AccessDatabase>,
    private readonly policies: Policies,
    private readonly issuer: CredentialIssuer,
    private readonly log: DecisionLog,
    private readonly now: () => Date,
  ) {}

  /** Records a request checked against the jurisdiction's policy. */
  async request(caller: AuthenticatedCaller, req: RequestAccessRequest): Promise<RequestView> {
    const partnerId = this.#partnerFor(caller, req.partnerId);
    const partner = await findPartner(this.db, partnerId);
    const now = this.now();
    const scope = req.scope;
    const notBefore = req.notBefore ? timestampDate(req.notBefore) : undefined;
    if (!req.expiresAt) throw invalidField('expires_at', 'is required');
    const expiresAt = timestampDate(req.expiresAt);
    const { policy, kinds } = this.policies.check(
      {
        partnerJurisdictions: partner.jurisdictions,
        jurisdiction: req.jurisdiction,
        kinds: (scope?.artifactKinds ?? []) as ArtifactKindWord[],
        notBefore,
        expiresAt,
      },
      now,
    );
    const row = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('access_requests')
        .values({
          id: `r-${randomBytes(10).toString('hex')}`,
          partner_id: partner.id,
          requested_by: principalName(caller),
          jurisdiction: req.jurisdiction,
          scope_kinds: [...new Set(kinds)],
          scope_products: [...new Set(scope?.products ?? [])],
          scope_artifacts: [...new Set(scope?.artifactIds ?? [])],
          scope_actions: actionWords(scope?.actions ?? []),
          not_before: notBefore ?? null,
          expires_at: expiresAt,
          justification: req.justification,
          state: 'pending',
          approvals_required: policy.approvals,
          created_at: now,
          credential_id: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.log.record(tx, {
        kind: DecisionKind.ACCESS_REQUESTED,
        atMs: BigInt(now.getTime()),
        actor: principalName(caller),
        partnerId: row.partner_id,
        requestId: row.id,
        jurisdictions: [row.jurisdiction],
        notBeforeMs: BigInt(row.not_before?.getTime() ?? 0),
        expiresAtMs: BigInt(row.expires_at.getTime()),
      });
      return row;
    });
    return { row, decisions: [], token: undefined };
  }

  /**
   * Records an approver's decision. Refused: the requester deciding (`permission_denied`),
   * an approver deciding twice (`already_exists`), a request already decided
   * (`failed_precondition`).
   */
  async decide(caller: AuthenticatedCaller, req: DecideAccessRequestRequest): Promise<RequestView> {
    const approver = requireOperator(caller, 'approver');
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('access_requests')
        .selectAll()
        .where('id', '=', req.requestId)
        .forUpdate()
        .executeTakeFirst();
      if (!row) throw new VitrineError('not_found', `access request ${req.requestId} not found`);
      if (row.state !== 'pending') {
        throw new VitrineError(
          'failed_precondition',
          `access request ${row.id} is already ${row.state}`,
        );
      }
      if (row.requested_by === principalName(approver)) {
        throw new VitrineError('permission_denied', 'the requester cannot decide its own request');
      }
      // Taken before the decision's time: see lockPartner.
      const partner = await lockPartner(tx, row.partner_id);
      const decisions = await decisionsOf(tx, row.id);
      if (decisions.some((d) => d.approver === principalName(approver))) {
        throw new VitrineError(
          'already_exists',
          `${principalName(approver)} has already decided ${row.id}: each approver counts once`,
        );
      }
      const at = this.now();
      const decision = {
        request_id: row.id,
        approver: principalName(approver),
        approve: req.approve,
        reason: req.reason,
        at,
      };
      await tx.insertInto('decisions').values(decision).execute();
      const all = [...decisions, decision];
      const approvals = all.filter((d) => d.approve).length;
      const decided = {
        atMs: BigInt(at.getTime()),
        actor: principalName(approver),
        partnerId: row.partner_id,
        requestId: row.id,
      };
      if (!req.approve) {
        const denied = await setState(tx, row.id, 'denied');
        await this.log.record(tx, { ...decided, kind: DecisionKind.REQUEST_DENIED });
        return { row: denied, decisions: all, token: undefined };
      }
      await this.log.record(tx, { ...decided, kind: DecisionKind.REQUEST_APPROVED });
      if (approvals < row.approvals_required) return { row, decisions: all, token: undefined };
      const issued = await this.#issue(tx, row, partner, at, principalName(approver));
      const approved = await setState(tx, row.id, 'approved', issued.id);
      return { row: approved, decisions: all, token: issued.token };
    });
  }

  /** One request, for an operator or the partner it belongs to. */
  async get(caller: AuthenticatedCaller, id: string): Promise<RequestView> {
    const row = await this.db
      .selectFrom('access_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new VitrineError('not_found', `access request ${id} not found`);
    if (!mayActFor(caller, row.partner_id)) {
      throw new VitrineError('permission_denied', `access request ${id} is not yours`);
    }
    const [view] = await requestViews(this.db, [row], caller);
    return view as RequestView;
  }

  /** The partner a request is for: the caller itself, or one an operator names. */
  #partnerFor(caller: AuthenticatedCaller, named: string): string {
    if (caller.kind === 'partner') {
      if (named !== '' && named !== caller.id) {
        throw new VitrineError('permission_denied', 'a partner may request access only for itself');
      }
      return caller.id;
    }
    requireOperator(caller, 'operator');
    if (named === '') {
      throw invalidField('partner_id', 'is required');
    }
    return named;
  }

  /**
   * Issues the credential of an approved request: window capped by the policy. `iat` is the
   * approval, when the credential came to be, whatever its window: a partner revocation
   * covers every credential issued before it, including one whose window opens later.
   */
  async #issue(
    tx: Transaction<AccessDatabase>,
    row: RequestRow,
    partner: Selectable<PartnerTable>,
    approvedAt: Date,
    approver: string,
  ) {
    const window = this.policies.window(
      row.jurisdiction,
      { notBefore: row.not_before, expiresAt: row.expires_at },
      approvedAt,
    );
    return this.issuer.issue(
      tx,
      {
        subject: { kind: 'partner', id: partner.id },
        audience: this.policies.policy(row.jurisdiction).centers,
        jurisdiction: row.jurisdiction,
        scope: scopeOfRow(row),
        roles: [],
        issuedAt: approvedAt,
        notBefore: window.notBefore,
        expiresAt: window.expiresAt,
        holderKey: partner.public_key,
      },
      { requestId: row.id, actor: approver },
    );
  }
}

function decisionsOf(db: Db, requestId: string) {
  return db
    .selectFrom('decisions')
    .selectAll()
    .where('request_id', '=', requestId)
    .orderBy('at')
    .execute();
}

function setState(
  tx: Transaction<AccessDatabase>,
  id: string,
  state: 'approved' | 'denied',
  credentialId: string | null = null,
): Promise<RequestRow> {
  return tx
    .updateTable('access_requests')
    .set({ state, credential_id: credentialId })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}
