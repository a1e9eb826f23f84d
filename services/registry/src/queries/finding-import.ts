import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

type Db = Kysely<RegistryDatabase>;

/** An artifact of a product lineage and the one it supersedes ('' for none). */
export interface LineageArtifact {
  readonly id: string;
  readonly supersedes: string;
}

/**
 * The product lineage of an artifact: every artifact linked to it by `supersedes`, in
 * either direction and transitively (the artifact itself included).
 */
export async function lineageOf(db: Db, artifactId: string): Promise<LineageArtifact[]> {
  const { rows } = await sql<LineageArtifact>`
    with recursive lineage (id, supersedes) as (
      select id, supersedes from artifacts where id = ${artifactId}
      union
      select a.id, a.supersedes from artifacts a
      join lineage l on a.supersedes = l.id or a.id = l.supersedes
    )
    select id, supersedes from lineage
  `.execute(db);
  return rows;
}

/** An imported finding on a lineage, with what an import compares. */
export interface ImportedFinding {
  readonly id: string;
  readonly fingerprint: string;
  readonly tool: string;
  readonly locations: string;
  readonly candidate_fix_artifact_id: string;
  readonly residency: string[];
  readonly artifact_ids: string[];
}

/** Every imported finding (one with a fingerprint) on any of `artifactIds`. */
export async function importedFindingsOn(
  db: Db,
  artifactIds: readonly string[],
): Promise<ImportedFinding[]> {
  const { rows } = await sql<ImportedFinding>`
    select f.id, f.fingerprint, f.tool, f.locations, f.candidate_fix_artifact_id, f.residency,
      array(select artifact_id from finding_artifacts where finding_id = f.id order by artifact_id)
        as artifact_ids
    from findings f
    where f.fingerprint <> '' and exists (
      select 1 from finding_artifacts fa
      where fa.finding_id = f.id and fa.artifact_id = any(${[...artifactIds]}::text[])
    )
  `.execute(db);
  return rows;
}

/** The register of some fields of some findings: what their writer saw (`seen`). */
export function registersOf(db: Db, findingIds: readonly string[], fields: readonly string[]) {
  return db
    .selectFrom('finding_field_versions')
    .select(['finding_id', 'field', 'hlc', 'origin'])
    .where('finding_id', 'in', [...findingIds])
    .where('field', 'in', [...fields])
    .execute();
}
