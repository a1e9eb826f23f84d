import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { callerKey, principalName } from '@vitrine/credentials';
import { invalidField, VitrineError } from '@vitrine/errors';
import type { AccessService } from '@vitrine/proto/access';
import { pageSize } from '@vitrine/storage';
import type { CosignatureStore } from '@vitrine/tlog-store';
import type { Kysely } from 'kysely';
import type { AccessRequests } from './access-requests.js';
import { callerOf, requireOperator } from './caller.js';
import type { AccessConfig } from './config.js';
import { toAccessRequest, toPartner, toRevocation } from './convert.js';
import type { CredentialIssuer } from './credential-issuer.js';
import type { DecisionLog } from './decision-log.js';
import { decisionReceipt } from './decision-receipts.js';
import { rotateTokenKey } from './key-rotation.js';
import { listFilterOf } from './listing.js';
import { issueOperatorCredential } from './operator-credentials.js';
import { registerPartner } from './partners.js';
import type { Policies } from './policies.js';
import { listRequests } from './request-listing.js';
import type { Revocations } from './revocations.js';
import type { AccessDatabase } from './schema.js';
import type { TokenKeys } from './token-keys.js';
import type { TrustSnapshots } from './trust-snapshots.js';
import {
  assertDecide,
  assertDecisionSubject,
  assertRequestAccess,
  assertRevoke,
  REQUEST_ID,
} from './validate.js';

/** The domain objects the handlers call, built once by `serveAccess`. */
export interface AccessParts {
  readonly config: AccessConfig;
  readonly db: Kysely<AccessDatabase>;
  readonly policies: Policies;
  readonly requests: AccessRequests;
  readonly revocations: Revocations;
  readonly issuer: CredentialIssuer;
  readonly keys: TokenKeys;
  readonly trust: TrustSnapshots;
  readonly log: DecisionLog;
  /** The access log's checkpoints with the centers' cosignatures, which receipts carry. */
  readonly cosignatures: CosignatureStore;
  readonly now: () => Date;
}

/** The access service's RPC handlers: each validates at the boundary and calls domain code. */
export function accessService(parts: AccessParts): ServiceImpl<typeof AccessService> {
  const { db, requests, revocations, now } = parts;
  return {
    async registerPartner(req, ctx) {
      // Validated, and the key's possession proved, by the authentication interceptor.
      if (ctx.values.get(callerKey)?.kind !== 'newcomer') {
        throw new VitrineError(
          'unauthenticated',
          'a registration is signed by the key it registers',
        );
      }
      return { partner: toPartner(await registerPartner(db, parts.log, req, now())) };
    },

    async requestAccess(req, ctx) {
      const caller = callerOf(ctx);
      assertRequestAccess(req);
      return { request: toAccessRequest(await requests.request(caller, req)) };
    },

    async decideAccessRequest(req, ctx) {
      const caller = callerOf(ctx);
      assertDecide(req);
      return { request: toAccessRequest(await requests.decide(caller, req)) };
    },

    async getDecisionReceipt(req, ctx) {
      const caller = callerOf(ctx);
      assertDecisionSubject(req);
      const receipt = await decisionReceipt(parts.log, parts.cosignatures, caller, req.subject);
      return {
        receipt: receipt.receipt,
        leafIndex: BigInt(receipt.leafIndex),
        treeSize: BigInt(receipt.treeSize),
      };
    },

    async getAccessRequest(req, ctx) {
      const caller = callerOf(ctx);
      if (!REQUEST_ID.test(req.id)) {
        throw invalidField('id', 'must be a request id such as r-…');
      }
      return { request: toAccessRequest(await requests.get(caller, req.id)) };
    },

    async listAccessRequests(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize('page_size', req.pageSize);
      const approver = req.approver.replace(/^(?!operator:|$)/, 'operator:');
      const filter = { ...listFilterOf(req, approver), approver };
      const { views, nextPageToken } = await listRequests(db, caller, filter, limit, req.pageToken);
      return { requests: views.map(toAccessRequest), nextPageToken };
    },

    async revoke(req, ctx) {
      const caller = callerOf(ctx);
      assertRevoke(req);
      return { revocation: toRevocation(await revocations.revoke(caller, req)) };
    },

    async listRevocations(req, ctx) {
      const caller = callerOf(ctx);
      const limit = pageSize('page_size', req.pageSize);
      const filter = listFilterOf(req);
      const { rows, nextPageToken } = await revocations.list(caller, filter, limit, req.pageToken);
      return { revocations: rows.map(toRevocation), nextPageToken };
    },

    async rotateKeys(_req, ctx) {
      const operator = requireOperator(callerOf(ctx), 'operator');
      const { signer, createdAt } = await rotateTokenKey(
        db,
        parts.keys,
        parts.trust,
        parts.log,
        principalName(operator),
        now(),
      );
      return {
        active: {
          keyId: signer.keyId,
          publicKey: signer.key.publicKey,
          createdAt: timestampFromDate(createdAt),
        },
      };
    },

    async issueOperatorCredential(_req, ctx) {
      const operator = requireOperator(callerOf(ctx));
      const issued = await issueOperatorCredential(
        db,
        parts.issuer,
        parts.policies,
        operator,
        parts.config.operatorCredentialHours,
        now(),
      );
      return {
        credentialId: issued.id,
        credential: issued.token,
        expiresAt: timestampFromDate(issued.expiresAt),
      };
    },

    async *watchTrust(_req, ctx: HandlerContext) {
      yield* parts.trust.watch(ctx.signal);
    },
  };
}
