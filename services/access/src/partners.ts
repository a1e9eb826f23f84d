import { sha256, toHex } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { RegisterPartnerRequest } from '@vitrine/proto/access';
import { DecisionKind } from '@vitrine/proto/access-decision';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DecisionLog } from './decision-log.js';
import type { AccessDatabase, PartnerTable } from './schema.js';

type Db = Kysely<AccessDatabase> | Transaction<AccessDatabase>;

/**
 * The id of the partner holding `publicKey`: `p-` and the first 48 bits of the key's
 * SHA-256. Derived from the key, so registering one key twice is caught by its id too.
 */
export function partnerIdOf(publicKey: Uint8Array): string {
  return `p-${toHex(sha256(publicKey)).slice(0, 12)}`;
}

/**
 * Records a partner that registered itself (the request is validated and the key's
 * possession proved before this runs). A key holds one principal, so separation of duties
 * between operators and partners holds by key: a key already registered to a partner or
 * held by an operator account is `already_exists`. The registration is the access log's
 * decision too, in the same transaction.
 */
export async function registerPartner(
  db: Kysely<AccessDatabase>,
  log: DecisionLog,
  req: RegisterPartnerRequest,
  now: Date,
): Promise<Selectable<PartnerTable>> {
  return db.transaction().execute(async (tx) => {
    const operator = await tx
      .selectFrom('operators')
      .select('name')
      .where('public_key', '=', req.publicKey)
      .executeTakeFirst();
    if (operator) {
      throw new VitrineError(
        'already_exists',
        'this public key is held by an operator account: a key may hold one principal',
      );
    }
    const partner = await insertPartner(tx, req, now);
    await log.record(tx, {
      kind: DecisionKind.PARTNER_REGISTERED,
      atMs: BigInt(now.getTime()),
      actor: `partner:${partner.id}`,
      partnerId: partner.id,
      partnerPublicKey: partner.public_key,
      jurisdictions: partner.jurisdictions,
    });
    return partner;
  });
}

/** Inserts the partner; `already_exists` when its key (and so its id) is registered. */
async function insertPartner(
  tx: Transaction<AccessDatabase>,
  req: RegisterPartnerRequest,
  now: Date,
): Promise<Selectable<PartnerTable>> {
  const row = await tx
    .insertInto('partners')
    .values({
      id: partnerIdOf(req.publicKey),
      organisation: req.organisation.trim(),
      jurisdictions: [...req.jurisdictions].sort(),
      contact: req.contact.trim(),
      public_key: req.publicKey,
      registered_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    throw new VitrineError('already_exists', 'this public key is already registered to a partner');
  }
  return row;
}

/** A partner by id; `not_found` when there is none. */
export async function findPartner(db: Db, id: string): Promise<Selectable<PartnerTable>> {
  const row = await db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new VitrineError('not_found', `partner ${id} not found`);
  return row;
}

/**
 * A partner by id, its row locked until the transaction ends: approving a request for it
 * and revoking it take this lock, so a credential is issued either wholly before a partner
 * revocation (and covered by it) or after it.
 */
export async function lockPartner(
  tx: Transaction<AccessDatabase>,
  id: string,
): Promise<Selectable<PartnerTable>> {
  const row = await tx
    .selectFrom('partners')
    .selectAll()
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new VitrineError('not_found', `partner ${id} not found`);
  return row;
}
