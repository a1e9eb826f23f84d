import { join } from 'node:path';
import { type ClusterSource, createPGliteClusters } from '@vitrine/storage';
import { CliError } from './cli-error.js';
import { PGLITE_TEMPLATES, pgliteTemplateFolder } from './pglite-template.js';

/**
 * With `VITRINE_DATABASE_URL` set, `vitrine dev` keeps every center on that PostgreSQL
 * database instead of embedded PGlite, each center in a schema of its own
 * (`vitrine_<center>`, created if missing) so their tables never mix. Returns the URL each
 * center's registry uses, or undefined for embedded storage.
 */
export async function devDatabaseUrls(
  env: Readonly<Record<string, string | undefined>>,
  centers: readonly string[],
): Promise<Map<string, string> | undefined> {
  const base = env.VITRINE_DATABASE_URL;
  if (!base) return undefined;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: base });
  try {
    await client.connect();
    for (const id of centers) await client.query(`create schema if not exists ${schemaOf(id)}`);
  } catch (cause) {
    throw new CliError(
      'UNAVAILABLE',
      `cannot prepare PostgreSQL at VITRINE_DATABASE_URL: ${String(cause)}`,
      {
        cause,
      },
    );
  } finally {
    await client.end().catch(() => {});
  }
  return new Map(
    centers.map((id) => {
      const url = new URL(base);
      url.searchParams.set('options', `-c search_path=${schemaOf(id)}`);
      return [id, url.toString()];
    }),
  );
}

function schemaOf(center: string): string {
  return `vitrine_${center.replaceAll('-', '_')}`;
}

/**
 * Creates the embedded databases of `vitrine dev` that do not exist yet — the access
 * service's, and each center's unless it keeps its state on PostgreSQL — before the
 * services start: each is a copy of the template cluster `npm run build` made for the
 * installed PGlite release under `templates` (see pglite-template.ts), or, without one, of
 * a cluster made by one initdb for all of them (each service would otherwise run initdb
 * itself, four at once). Folders are where the services keep them (`<dataDir>/db`).
 * Resolves to how they were made, or undefined when all existed.
 */
export async function prepareDevPGlite(
  home: string,
  centers: readonly string[],
  postgres: ReadonlyMap<string, string> | undefined,
  templates: string = PGLITE_TEMPLATES,
): Promise<ClusterSource | undefined> {
  const embedded = centers.filter((id) => !postgres?.has(id));
  return createPGliteClusters(
    [join(home, 'access', 'db'), ...embedded.map((id) => join(home, 'centers', id, 'db'))],
    { template: await pgliteTemplateFolder(templates) },
  );
}
