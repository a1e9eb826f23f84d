import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

/**
 * SHA-256 over this center's derived state in a canonical order and encoding: artifacts (by
 * their manifest fields, not how many bytes are held yet), findings with their artifacts,
 * comments and history. Derived state is a function of the events held, so two centers that
 * hold the same events report the same digest. A center outside some data's residency
 * holds less, and its digest differs by that: convergenceDigest is the check that holds
 * across residencies.
 */
export async function stateDigest(db: Kysely<RegistryDatabase>): Promise<string> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (tx) => {
      const hash = createHash('sha256');
      const add = (table: string, rows: readonly object[]) => {
        hash.update(`${table}\n`);
        for (const row of rows) hash.update(`${canonical(row)}\n`);
      };
      add(
        'artifacts',
        await tx
          .selectFrom('artifacts')
          .select(['id', 'kind', 'product', 'version', 'size', 'content_digest', 'residency'])
          .select(['supersedes', 'origin', 'published_hlc', 'manifest_signature'])
          .orderBy('id')
          .execute(),
      );
      add('findings', await tx.selectFrom('findings').selectAll().orderBy('id').execute());
      add(
        'finding_artifacts',
        await tx
          .selectFrom('finding_artifacts')
          .selectAll()
          .orderBy('finding_id')
          .orderBy('artifact_id')
          .execute(),
      );
      add('comments', await tx.selectFrom('comments').selectAll().orderBy('id').execute());
      add(
        'finding_history',
        await tx
          .selectFrom('finding_history')
          .selectAll()
          .orderBy('finding_id')
          .orderBy('origin')
          .orderBy('seq')
          .execute(),
      );
      return hash.digest('hex');
    });
}

/** JSON with sorted keys, bigints as decimal strings and bytes as hex. */
function canonical(row: object): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(row).sort(([a], [b]) => a.localeCompare(b))),
    (_, value) => {
      if (typeof value === 'bigint') return value.toString();
      if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
      return value;
    },
  );
}
