import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AccessDatabase, RevocationTable } from './schema.js';

type Db = Kysely<AccessDatabase> | Transaction<AccessDatabase>;
type RevocationRow = Selectable<RevocationTable>;

/**
 * Each credential with each revocation covering it: one naming it, one of its partner made
 * at or after its issue (its approval, whatever its window), one of the key that signed it.
 * The one rule behind both what centers are told (ids only) and what operators are shown.
 */
function coverage(db: Db) {
  return db
    .selectFrom('credentials as c')
    .innerJoin('revocations as r', (join) =>
      join.on((eb) =>
        eb.or([
          eb.and([eb('r.target', '=', 'credential'), eb('r.target_id', '=', eb.ref('c.id'))]),
          eb.and([
            eb('r.target', '=', 'partner'),
            eb('r.target_id', '=', eb.ref('c.partner_id')),
            eb('c.issued_at', '<=', eb.ref('r.at')),
          ]),
          eb.and([eb('r.target', '=', 'key'), eb('r.target_id', '=', eb.ref('c.key_id'))]),
        ]),
      ),
    );
}

/** The id of every revoked credential, sorted: what a trust snapshot tells centers. */
export async function revokedCredentialIds(db: Db): Promise<string[]> {
  const rows = await coverage(db).select('c.id').distinct().orderBy('c.id').execute();
  return rows.map((row) => row.id);
}

/** For each of `credentialIds` that is revoked, the first revocation covering it. */
export async function revocationsOf(
  db: Db,
  credentialIds: readonly string[],
): Promise<Map<string, RevocationRow>> {
  const first = new Map<string, RevocationRow>();
  if (credentialIds.length === 0) return first;
  const rows = await coverage(db)
    .selectAll('r')
    .select('c.id as credential_id')
    .where('c.id', 'in', [...credentialIds])
    .orderBy('r.at')
    .orderBy('r.id')
    .execute();
  for (const { credential_id, ...revocation } of rows) {
    if (!first.has(credential_id)) first.set(credential_id, revocation);
  }
  return first;
}
