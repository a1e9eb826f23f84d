import { VitrineError } from '@vitrine/errors';
import type { Kysely, Transaction } from 'kysely';
import type { OperatorAccount } from './config.js';
import type { AccessDatabase } from './schema.js';

/**
 * Makes the operator accounts in the database those of the config: listed accounts are
 * inserted or updated (roles, key), accounts no longer listed are removed, so they can no
 * longer authenticate. Decisions they made stay on record under their principal. A key
 * holds one principal: an account whose key a partner registered is `failed_precondition`
 * and nothing changes (the service does not start until the config or the partner does).
 */
export async function syncOperators(
  db: Kysely<AccessDatabase>,
  accounts: readonly OperatorAccount[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    let removal = tx.deleteFrom('operators');
    if (accounts.length > 0)
      removal = removal.where(
        'name',
        'not in',
        accounts.map((a) => a.name),
      );
    await removal.execute();
    for (const account of accounts) {
      const row = {
        name: account.name,
        roles: [...account.roles],
        public_key: new Uint8Array(Buffer.from(account.publicKey, 'base64')),
      };
      await tx
        .insertInto('operators')
        .values(row)
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({ roles: row.roles, public_key: row.public_key }),
        )
        .execute();
    }
    await refusePartnerKeys(tx);
  });
}

/** `failed_precondition` naming the first operator account whose key a partner holds. */
async function refusePartnerKeys(tx: Transaction<AccessDatabase>): Promise<void> {
  const shared = await tx
    .selectFrom('operators as o')
    .innerJoin('partners as p', 'p.public_key', 'o.public_key')
    .select(['o.name', 'p.id'])
    .orderBy('o.name')
    .executeTakeFirst();
  if (shared) {
    throw new VitrineError(
      'failed_precondition',
      `operator ${shared.name}'s public key is registered to partner ${shared.id}: a key may hold one principal`,
    );
  }
}
