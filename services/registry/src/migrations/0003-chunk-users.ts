import type { Kysely } from 'kysely';

/**
 * Finds the artifacts that use a chunk by its digest: every chunk a peer sends or asks for
 * is looked up this way (residency check, holdings recount), which without the index
 * scanned every chunk of every artifact — quadratic in an artifact's chunk count.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('artifact_chunks_digest')
    .on('artifact_chunks')
    .column('digest')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('artifact_chunks_digest').execute();
}
