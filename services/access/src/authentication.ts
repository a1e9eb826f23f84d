import type { Interceptor } from '@connectrpc/connect';
import {
  ACCESS_AUDIENCE,
  type Caller,
  callerKey,
  firstMessageOf,
  PRINCIPAL_HEADER,
  PROOF_HEADER,
  proofSubjectOf,
  type ReplayGuard,
  type Role,
  verifyProof,
} from '@vitrine/credentials';
import { VitrineError } from '@vitrine/errors';
import { AccessService, type RegisterPartnerRequest } from '@vitrine/proto/access';
import type { Kysely } from 'kysely';
import type { AccessDatabase } from './schema.js';
import { assertRegisterPartner } from './validate.js';

/** The principal a partner registering itself names: its key is the one in the request. */
export const NEWCOMER = 'partner:new';

/** Methods anyone may call: their answers are signed public data (keys, revocation ids). */
const OPEN_METHODS = new Set([AccessService.method.watchTrust.name]);

export interface AuthenticationOptions {
  readonly db: Kysely<AccessDatabase>;
  readonly replays: ReplayGuard;
  /** Jurisdictions with a policy, to validate a registration before its proof. */
  readonly jurisdictions: readonly string[];
  readonly maxSkewMs: number;
  readonly now: () => Date;
}

/**
 * Authenticates every AccessService call by key: `vitrine-principal` names a registered
 * partner or operator, and `vitrine-proof` must be that principal's signature for audience
 * `vitrine-access` over the method, time, nonce, principal and request digest, fresh and
 * not replayed (docs/proof-of-possession.md). The caller
 * lands in the context for the handlers. A registration (`partner:new`) proves possession
 * of the key it registers. Health, reflection and WatchTrust stay open.
 */
export function authenticationInterceptor(options: AuthenticationOptions): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== AccessService.typeName || OPEN_METHODS.has(req.method.name)) {
      return next(req);
    }
    const principal = req.header.get(PRINCIPAL_HEADER);
    if (!principal) {
      throw new VitrineError(
        'unauthenticated',
        `missing ${PRINCIPAL_HEADER} header: calls to the access service are signed by a registered key`,
      );
    }
    const { call, message } = await firstMessageOf(req);
    const registering = req.method.name === AccessService.method.registerPartner.name;
    const { caller, publicKey } = registering
      ? newcomer(principal, message as RegisterPartnerRequest, options.jurisdictions)
      : await registered(options.db, principal);
    const subject = proofSubjectOf(call, message, ACCESS_AUDIENCE, principal);
    await verifyProof(call.header.get(PROOF_HEADER), subject, {
      publicKey,
      now: options.now().getTime(),
      maxSkewMs: options.maxSkewMs,
      replays: options.replays,
    });
    call.contextValues.set(callerKey, caller);
    return next(call);
  };
}

/** A registration: the principal must be `partner:new`, the key the one being registered. */
function newcomer(
  principal: string,
  message: RegisterPartnerRequest,
  jurisdictions: readonly string[],
): { caller: Caller; publicKey: Uint8Array } {
  if (principal !== NEWCOMER) {
    throw new VitrineError(
      'unauthenticated',
      `a registration is made as ${NEWCOMER}, signed by the key it registers`,
    );
  }
  assertRegisterPartner(message, jurisdictions);
  return { caller: { kind: 'newcomer' }, publicKey: message.publicKey };
}

/** A registered principal and its key; `unauthenticated` for anyone else. */
async function registered(
  db: Kysely<AccessDatabase>,
  principal: string,
): Promise<{ caller: Caller; publicKey: Uint8Array }> {
  const match = /^(partner|operator):([A-Za-z0-9._-]{1,64})$/.exec(principal);
  const [, kind, id] = match ?? [];
  if (kind === 'partner' && id !== undefined && id !== 'new') {
    const row = await db
      .selectFrom('partners')
      .select('public_key')
      .where('id', '=', id)
      .executeTakeFirst();
    if (row) return { caller: { kind, id, roles: [] }, publicKey: row.public_key };
  }
  if (kind === 'operator' && id !== undefined) {
    const row = await db
      .selectFrom('operators')
      .select(['public_key', 'roles'])
      .where('name', '=', id)
      .executeTakeFirst();
    if (row) {
      const roles = row.roles as Role[];
      return { caller: { kind, id, roles }, publicKey: row.public_key };
    }
  }
  throw new VitrineError(
    'unauthenticated',
    `unknown principal ${JSON.stringify(principal.slice(0, 80))}`,
  );
}
