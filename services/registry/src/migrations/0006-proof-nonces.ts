import { type Kysely, sql } from 'kysely';

/**
 * The nonces of accepted proofs of possession, kept until the proofs could no longer be
 * fresh, so every registry process of a center refuses a proof another one accepted. The
 * key is SHA-256 over a proof's binding and nonce; the primary key makes admitting a nonce
 * one insert that fails on a replay. Expired rows are pruned by `expires_at`.
 *
 * The table is unlogged: nonces live 60 s and need no write-ahead log, which makes each
 * insert cheaper (bench/proof-nonces.ts). A clean restart keeps them; a crash of the
 * database server (or a fail-over to a standby) empties the table, so a proof accepted in
 * the last minute before it could be accepted once more within its remaining window.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('proof_nonces')
    .modifyFront(sql`unlogged`)
    .addColumn('key', 'bytea', (c) => c.primaryKey())
    .addColumn('expires_at', 'int8', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('proof_nonces_expires_at')
    .on('proof_nonces')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('proof_nonces').execute();
}
