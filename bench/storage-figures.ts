/**
 * Prints storage figures for this machine: how long a center takes to open a fresh PGlite
 * database and migrate it, and batched insert throughput on each backend. Figures only;
 * nothing here passes or fails. Run: `npx tsx libs/storage/bench/storage-figures.ts`.
 */

import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { type Kysely, type Migration, sql } from 'kysely';

interface Schema {
  event: { origin: string; seq: bigint; body: Uint8Array };
}

/** A schema the size of a center's first migration: a few tables and indexes. */
const migrations: Record<string, Migration> = {
  '0001-initial': {
    up: async (db: Kysely<unknown>) => {
      await sql`create table event (origin text not null, seq int8 not null, body bytea not null,
        primary key (origin, seq))`.execute(db);
      await sql`create table artifact (id text primary key, manifest bytea not null,
        created_at timestamptz not null default now())`.execute(db);
      await sql`create table finding (id text primary key, artifact_id text not null
        references artifact (id), state jsonb not null)`.execute(db);
      await sql`create index finding_artifact on finding (artifact_id)`.execute(db);
      await sql`create table checkpoint (size int8 primary key, note bytea not null)`.execute(db);
    },
  },
};

const ROWS = 10_000;
const BATCH = 1_000;
const RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timeFreshOpen(dataDir?: string): Promise<number> {
  const started = performance.now();
  const database = await openDatabase(dataDir === undefined ? {} : { dataDir });
  await migrateToLatest(database.db, migrations);
  const elapsed = performance.now() - started;
  await database.close();
  return elapsed;
}

async function insertRate(db: Kysely<Schema>): Promise<number> {
  const body = new Uint8Array(32).fill(7);
  const started = performance.now();
  await db.transaction().execute(async (trx) => {
    for (let first = 0; first < ROWS; first += BATCH) {
      const rows = Array.from({ length: BATCH }, (_, i) => ({
        origin: 'europe',
        seq: BigInt(first + i),
        body,
      }));
      await trx.insertInto('event').values(rows).execute();
    }
  });
  return ROWS / ((performance.now() - started) / 1000);
}

const fresh: Record<string, number[]> = { memory: [], folder: [], reopen: [] };
for (let run = 0; run < RUNS; run++) {
  fresh.memory?.push(await timeFreshOpen());
  const target = await testBackends()[0]?.open();
  const folder = `${target?.dataDir}/fresh`;
  fresh.folder?.push(await timeFreshOpen(folder));
  fresh.reopen?.push(await timeFreshOpen(folder));
  await target?.cleanup();
}
for (const [what, times] of Object.entries(fresh)) {
  console.log(`open+migrate pglite ${what}: median ${median(times).toFixed(0)} ms of ${times}`);
}

for (const backend of testBackends()) {
  const target = await backend.open();
  const database = await openDatabase<Schema>(target);
  await migrateToLatest(database.db, migrations);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await database.db.deleteFrom('event').execute();
    rates.push(await insertRate(database.db));
  }
  await database.close();
  await target.cleanup();
  const shown = rates.map((r) => r.toFixed(0)).join(', ');
  console.log(`insert ${ROWS} rows in batches of ${BATCH} on ${backend.name}: ${shown} rows/s`);
}
