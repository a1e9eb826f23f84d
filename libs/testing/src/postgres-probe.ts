import pg from 'pg';

/** Server the suites use when the environment names none: the local test server. */
export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** How long the probe waits for a connection before deciding no server is there. */
const PROBE_TIMEOUT_MS = 1_500;

/** The outcome of one probe: reachable, or why not (for the CI failure message). */
export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Asks the server for `select 1` with a short connect timeout. Suites run this once per
 * test file, so a machine without PostgreSQL pays at most the timeout.
 */
export async function probePostgres(url: string): Promise<ProbeResult> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
    query_timeout: PROBE_TIMEOUT_MS,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs one statement on a short-lived admin connection (CREATE/DROP DATABASE). */
export async function runAdminStatement(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
