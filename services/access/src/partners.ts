import { sha256, toHex } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { RegisterPartnerRequest } from '@vitrine/proto/access';
import type { Kysely, Selectable, Transaction } from 'kysely';
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
 * possession proved before this runs). A key already registered is `already_exists`.
 */
export async function registerPartner(
  db: Kysely<AccessDatabase>,
  req: RegisterPartnerRequest,
  now: Date,
): Promise<Selectable<PartnerTable>> {
  const row = await db
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
