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
