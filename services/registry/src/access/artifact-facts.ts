import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import type { GrantedArtifact } from './access-grant.js';

type Db = Kysely<RegistryDatabase>;

/** The scope-relevant facts of those of these artifacts this center holds. */
export async function artifactFacts(db: Db, ids: readonly string[]): Promise<GrantedArtifact[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('artifacts')
    .select(['id', 'kind', 'product', 'residency'])
    .where('id', 'in', ids)
    .execute();
}

/**
 * A finding's residency and the facts of the artifacts it concerns; undefined when unknown.
 * An artifact this center does not hold gets empty kind and product, which a scope
 * narrowing by kind or product does not cover.
 */
export async function findingFacts(
  db: Db,
  findingId: string,
): Promise<{ residency: string[]; artifacts: GrantedArtifact[] } | undefined> {
  const finding = await db
    .selectFrom('findings')
    .select('residency')
    .where('id', '=', findingId)
    .executeTakeFirst();
  if (!finding) return undefined;
  const links = await db
    .selectFrom('finding_artifacts')
    .select('artifact_id')
    .where('finding_id', '=', findingId)
    .execute();
  const held = await artifactFacts(
    db,
    links.map((l) => l.artifact_id),
  );
  const artifacts = links.map(
    ({ artifact_id: id }) =>
      held.find((a) => a.id === id) ?? { id, kind: '', product: '', residency: [] },
  );
  return { residency: finding.residency, artifacts };
}
