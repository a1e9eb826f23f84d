import { join } from 'node:path';
import { keyIdOf, type TokenSigner } from '@vitrine/credentials';
import { generateSigningKeyPair, readKeyFile, writeKeyFile } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import type { Kysely, Transaction } from 'kysely';
import type { AccessDatabase, TokenKeyTable } from './schema.js';

/** A transaction or the database itself. */
type Db = Kysely<AccessDatabase> | Transaction<AccessDatabase>;

/**
 * The keys that sign credentials. One is active; rotation makes a new one active and
 * retires the old, which stays in trust snapshots (so its tokens keep verifying) until
 * the last token it signed has expired. Secret halves live in `keys/token-<seq>.key`
 * (0600); the database holds public halves and state.
 */
export class TokenKeys {
  #active: TokenSigner;

  private constructor(
    private readonly keysDir: string,
    active: TokenSigner,
  ) {
    this.#active = active;
  }

  /**
   * Loads the active key, creating the first one on a fresh database; `created` runs in
   * the transaction that records a first key (the access log records it as a rotation).
   */
  static async open(
    db: Kysely<AccessDatabase>,
    keysDir: string,
    now: Date,
    created: (
      tx: Transaction<AccessDatabase>,
      signer: TokenSigner,
    ) => Promise<void> = async () => {},
  ): Promise<TokenKeys> {
    const row = await activeRow(db);
    const signer = row
      ? await loadSigner(keysDir, row)
      : await db.transaction().execute(async (tx) => {
          const first = await createTokenKey(tx, keysDir, now);
          await created(tx, first);
          return first;
        });
    return new TokenKeys(keysDir, signer);
  }

  /** The key new credentials are signed with. */
  get signer(): TokenSigner {
    return this.#active;
  }

  /**
   * Within `tx`: writes a new key file, records the key as active and retires the one
   * before it. Call `activate` with the result once `tx` has committed.
   */
  createNext(tx: Transaction<AccessDatabase>, now: Date): Promise<TokenSigner> {
    return createTokenKey(tx, this.keysDir, now);
  }

  /** Makes a key created by `createNext` the one that signs, after its transaction committed. */
  activate(signer: TokenSigner): void {
    this.#active = signer;
  }
}

/** Writes a new key file, records the key as active and retires every other key. */
async function createTokenKey(
  tx: Transaction<AccessDatabase>,
  keysDir: string,
  now: Date,
): Promise<TokenSigner> {
  const last = await tx
    .selectFrom('token_keys')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  const seq = (last?.seq ?? 0) + 1;
  const key = await generateSigningKeyPair();
  const keyId = await keyIdOf(key.publicKey);
  await writeKeyFile(keyFile(keysDir, seq), key);
  await tx
    .updateTable('token_keys')
    .set({ retired_at: now })
    .where('retired_at', 'is', null)
    .execute();
  await tx
    .insertInto('token_keys')
    .values({ key_id: keyId, seq, public_key: key.publicKey, created_at: now })
    .execute();
  return { keyId, key };
}

/** The secret key file of the `seq`-th token key. */
function keyFile(keysDir: string, seq: number): string {
  return join(keysDir, `token-${seq}.key`);
}

function activeRow(db: Db) {
  return db
    .selectFrom('token_keys')
    .selectAll()
    .where('retired_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

async function loadSigner(keysDir: string, row: TokenKeyTable): Promise<TokenSigner> {
  const key = await readKeyFile(keyFile(keysDir, row.seq));
  if (!key || (await keyIdOf(key.publicKey)) !== row.key_id) {
    throw new VitrineError(
      'failed_precondition',
      `token key file ${keyFile(keysDir, row.seq)} is missing or does not match key ${row.key_id}`,
    );
  }
  return { keyId: row.key_id, key };
}
