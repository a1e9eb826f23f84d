import { randomBytes } from 'node:crypto';
import type { TokenSigner } from '@vitrine/credentials';
import { type AuthenticatedCaller, principalName } from '@vitrine/credentials';
import { invalidField, VitrineError } from '@vitrine/errors';
import type { RevokeRequest } from '@vitrine/proto/access';
import { DecisionKind } from '@vitrine/proto/access-decision';
import { paginate } from '@vitrine/storage';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { requireOperator } from './caller.js';
import type { DecisionLog } from './decision-log.js';
import { afterPageToken, type ListFilter, partnerScope } from './listing.js';
import { lockPartner } from './partners.js';
import type { AccessDatabase, RevocationTable } from './schema.js';
import type { TokenKeys } from './token-keys.js';
import { bumpTrustVersion, type TrustSnapshots } from './trust-snapshots.js';

type RevocationRow = Selectable<RevocationTable>;
type Target = RevokeRequest['target'];

/** What a revocation is about, resolved against the records. */
interface Resolved {
  readonly target: RevocationTable['target'];
  readonly targetId: string;
  readonly partnerId: string | null;
  /** Revoking what is already revoked returns the earlier revocation (not for partners). */
  readonly repeatable: boolean;
}

/**
 * Revocations by credential, by partner (every credential issued to it up to now, whatever
 * its window) or by token key (every credential it signed; the key leaves the snapshots).
 * Each one is kept for good with its reason and actor, bumps the trust version in its
 * transaction and is pushed to every center watching as soon as it commits — as the ids
 * of the credentials it covers, nothing more.
 */
export class Revocations {
  constructor(
    private readonly db: Kysely<AccessDatabase>,
    private readonly keys: TokenKeys,
    private readonly trust: TrustSnapshots,
    private readonly log: DecisionLog,
    private readonly now: () => Date,
  ) {}

  async revoke(caller: AuthenticatedCaller, req: RevokeRequest): Promise<RevocationRow> {
    if (caller.kind === 'operator') requireOperator(caller, 'operator', 'security');
    let nextKey: TokenSigner | undefined;
    const row = await this.db.transaction().execute(async (tx) => {
      const resolved = await resolve(tx, req.target);
      if (caller.kind === 'partner' && resolved.partnerId !== caller.id) {
        throw new VitrineError(
          'permission_denied',
          'a partner may revoke only its own credentials',
        );
      }
      if (resolved.repeatable) {
        const earlier = await tx
          .selectFrom('revocations')
          .selectAll()
          .where('target', '=', resolved.target)
          .where('target_id', '=', resolved.targetId)
          .executeTakeFirst();
        if (earlier) return earlier;
      }
      const at = this.now();
      if (resolved.target === 'key') nextKey = await this.#retireKey(tx, resolved.targetId, at);
      await bumpTrustVersion(tx);
      const revocation = await tx
        .insertInto('revocations')
        .values({
          id: `v-${randomBytes(10).toString('hex')}`,
          target: resolved.target,
          target_id: resolved.targetId,
          partner_id: resolved.partnerId,
          reason: req.reason,
          revoked_by: principalName(caller),
          at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const atMs = BigInt(at.getTime());
      const targetField = { credential: 'credentialId', partner: 'partnerId', key: 'keyId' }[
        resolved.target
      ];
      await this.log.record(
        tx,
        {
          kind: DecisionKind.REVOKED,
          atMs,
          actor: principalName(caller),
          revocationId: revocation.id,
          revocationTarget: resolved.target,
          [targetField]: resolved.targetId,
          ...(resolved.partnerId !== null ? { partnerId: resolved.partnerId } : {}),
        },
        ...(nextKey
          ? [
              {
                kind: DecisionKind.KEY_ROTATED,
                atMs,
                actor: principalName(caller),
                keyId: nextKey.keyId,
                publicKey: nextKey.key.publicKey,
              },
            ]
          : []),
      );
      return revocation;
    });
    if (nextKey) this.keys.activate(nextKey);
    await this.trust.publish();
    return row;
  }

  /** A page of revocations, newest first: all for operators, its own for a partner. */
  async list(
    caller: AuthenticatedCaller,
    filter: ListFilter,
    limit: number,
    pageToken: string,
  ): Promise<{ rows: RevocationRow[]; nextPageToken: string }> {
    const partnerId = partnerScope(caller, filter.partnerId, 'revocations');
    let query = this.db.selectFrom('revocations').selectAll();
    if (partnerId) query = query.where('partner_id', '=', partnerId);
    if (filter.since) query = query.where('at', '>=', filter.since);
    if (filter.until) query = query.where('at', '<', filter.until);
    const after = afterPageToken('at', pageToken);
    if (after) query = query.where(after);
    const rows = await query
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const { page, nextPageToken } = paginate(rows, limit, (r) => BigInt(r.at.getTime()));
    return { rows: page, nextPageToken };
  }

  /** Marks a key revoked; when it is the one signing, a new key takes over first. */
  async #retireKey(
    tx: Transaction<AccessDatabase>,
    keyId: string,
    at: Date,
  ): Promise<TokenSigner | undefined> {
    const next = keyId === this.keys.signer.keyId ? await this.keys.createNext(tx, at) : undefined;
    await tx
      .updateTable('token_keys')
      .set({ revoked_at: at })
      .where('key_id', '=', keyId)
      .execute();
    return next;
  }
}

/** Looks the target up; `not_found` for an unknown credential, partner or key. */
async function resolve(tx: Transaction<AccessDatabase>, target: Target): Promise<Resolved> {
  switch (target.case) {
    case 'credentialId': {
      const row = await tx
        .selectFrom('credentials')
        .select(['id', 'partner_id'])
        .where('id', '=', target.value)
        .executeTakeFirst();
      if (!row) throw new VitrineError('not_found', `credential ${target.value} not found`);
      return {
        target: 'credential',
        targetId: row.id,
        partnerId: row.partner_id,
        repeatable: true,
      };
    }
    case 'partnerId': {
      const partner = await lockPartner(tx, target.value);
      return { target: 'partner', targetId: partner.id, partnerId: partner.id, repeatable: false };
    }
    case 'keyId': {
      const row = await tx
        .selectFrom('token_keys')
        .select('key_id')
        .where('key_id', '=', target.value)
        .executeTakeFirst();
      if (!row) throw new VitrineError('not_found', `token key ${target.value} not found`);
      return { target: 'key', targetId: row.key_id, partnerId: null, repeatable: true };
    }
    case undefined:
      throw invalidField('target', 'is required');
    default:
      throw new Error(`unknown revocation target ${String((target as { case: unknown }).case)}`);
  }
}
