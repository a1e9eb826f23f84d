/**
 * The replay guard's cost per call: admitting a proof's nonce in the center's database (one
 * insert on a primary key, shared by every registry process of the center) against the
 * same admissions in one process's memory, in alternating rounds of one run. The goal it
 * serves: 1,000 authorized reads per second at a center on PostgreSQL.
 *
 *   npx tsx bench/proof-nonces.ts [seconds=6] [concurrency=16] [pglite|postgres]
 */
import { randomBytes } from 'node:crypto';
import { MemoryReplayGuard, type ReplayGuard } from '@vitrine/credentials';
import { createLogger } from '@vitrine/rpc';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { sql } from 'kysely';
import { ProofNonces } from '../services/registry/src/access/proof-nonces.js';
import { registryMigrations } from '../services/registry/src/migrations/index.js';
import type { RegistryDatabase } from '../services/registry/src/schema.js';
import { median } from './measure.js';

const [seconds = 6, concurrency = 16] = process.argv.slice(2, 4).map(Number);
const backend = testBackends().find((b) => b.name === (process.argv[4] ?? 'postgres'));
if (!backend)
  throw new Error(`no ${process.argv[4] ?? 'postgres'} backend (is PostgreSQL running?)`);
const logger = createLogger('bench', { VITRINE_LOG_LEVEL: 'silent' });

/** Admissions per second from `concurrency` loops for `ms`, each with a fresh nonce. */
async function rate(guard: ReplayGuard, ms: number): Promise<number> {
  let calls = 0;
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const now = Date.now();
        if (!(await guard.admit(new Uint8Array(randomBytes(32)), now + 60_000, now))) {
          throw new Error('a fresh nonce was refused');
        }
        calls++;
      }
    }),
  );
  return calls / ((performance.now() - start) / 1000);
}

const target = await backend.open();
const database = await openDatabase<RegistryDatabase>(target);
await migrateToLatest(database.db, registryMigrations);
/** The floor of any statement per call: one round trip to the database, writing nothing. */
const roundTrip: ReplayGuard = {
  admit: async () =>
    (await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows.length === 1,
};
const guards = {
  memory: new MemoryReplayGuard(),
  roundTrip,
  database: new ProofNonces(database.db, logger),
};
const rates = { memory: [] as number[], roundTrip: [] as number[], database: [] as number[] };
for (const guard of Object.values(guards)) await rate(guard, 500); // warm-up
for (let round = 0; round < seconds; round++) {
  for (const [name, guard] of Object.entries(guards)) {
    rates[name as keyof typeof guards].push(await rate(guard, 1_000));
  }
}
const stored = await database.db
  .selectFrom('proof_nonces')
  .select((eb) => eb.fn.countAll<string>().as('n'))
  .executeTakeFirstOrThrow();
const [mem, trip, db] = [median(rates.memory), median(rates.roundTrip), median(rates.database)];
const ratio = median(rates.database.map((r, i) => r / (rates.roundTrip[i] ?? r)));
console.log(
  `Proof nonces admitted on ${backend.name}, ${concurrency} in flight, ${seconds} rounds of 1 s (medians):`,
);
console.log(`  in process memory               ${mem.toFixed(0)} admissions/s`);
console.log(`  select 1 (a round trip, no row) ${trip.toFixed(0)} calls/s`);
console.log(
  `  in the center database (insert) ${db.toFixed(0)} admissions/s  ${(100 * ratio).toFixed(0)}% of the round trip`,
);
console.log(`  rows held: ${stored.n} (nonces of the last 60 s)`);
await guards.database.settled();
await database.close();
await target.cleanup();
