import { join } from 'node:path';
import { createPGliteClusters } from '@vitrine/storage';
import pg from 'pg';
import { CliError } from './cli-error.js';

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
 * service's, and each center's unless it keeps its state on PostgreSQL — with one initdb
 * for all of them, before the services start: each service would otherwise run initdb
 * itself, four at once. Folders are where the services keep them (`<dataDir>/db`).
 */
export async function prepareDevPGlite(
  home: string,
  centers: readonly string[],
  postgres: ReadonlyMap<string, string> | undefined,
): Promise<void> {
  const embedded = centers.filter((id) => !postgres?.has(id));
  await createPGliteClusters([
    join(home, 'access', 'db'),
    ...embedded.map((id) => join(home, 'centers', id, 'db')),
  ]);
}
