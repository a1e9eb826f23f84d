import type { Kysely } from 'kysely';
import type { OperatorAccount } from './config.js';
import type { AccessDatabase } from './schema.js';

/**
 * Makes the operator accounts in the database those of the config: listed accounts are
 * inserted or updated (roles, key), accounts no longer listed are removed, so they can no
 * longer authenticate. Decisions they made stay on record under their principal.
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
  });
}
