/**
 * Transparency-log figures, on PostgreSQL (when one answers at VITRINE_BENCH_POSTGRES_URL,
 * default the local server) and on PGlite, each against a baseline in the same run:
 *
 * - appends: local events appended with the log kept (EventLog.appendAll: sign, store, tree,
 *   apply) while a checkpoint is signed every second, beside the same events' rows inserted
 *   raw (no tree, no derivation), a batch per transaction;
 * - proofs: inclusion proofs read from stored hashes in a log of `leaves` leaves, p50/p99.
 *
 *   npx tsx bench/transparency-log.ts [events=20000] [leaves=1000000] [pglite-leaves=200000]
 */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { sealEvent } from '@vitrine/events';
import { AccessOutcome, AccessUsedSchema, EventBodySchema } from '@vitrine/proto/event';
import { type DatabaseOptions, migrateToLatest, openDatabase } from '@vitrine/storage';
import { DEFAULT_TEST_POSTGRES_URL, tempDir } from '@vitrine/testing';
import { inclusionProof, noteSigner } from '@vitrine/tlog';
import pg from 'pg';
import { EventLog, type LogEntry } from '../services/registry/src/event-log.js';
import { registryMigrations } from '../services/registry/src/migrations/index.js';
import { eventRow } from '../services/registry/src/queries/events.js';
import type { RegistryDatabase } from '../services/registry/src/schema.js';
import { CheckpointPublisher } from '../services/registry/src/transparency/checkpoint-publisher.js';
import {
  appendLogLeaves,
  logHashReader,
} from '../services/registry/src/transparency/log-tree-store.js';
import { median, percentile } from './measure.js';

const BATCH = 256;
const [events = 20_000, leaves = 1_000_000, pgliteLeaves = 200_000] = process.argv
  .slice(2)
  .map(Number);

function record(i: number): LogEntry {
  const value = create(AccessUsedSchema, {
    principal: `partner:p-${i % 97}`,
    credentialId: `c-${i % 31}`,
    method: 'GetArtifact',
    artifactId: randomBytes(32).toString('hex'),
    outcome: AccessOutcome.ALLOWED,
  });
  return { actor: `partner:p-${i % 97}`, change: { case: 'accessUsed', value } };
}

/** A fresh database of the kind: a new database on the server, or a new PGlite folder. */
async function fresh(kind: 'postgres' | 'pglite', serverUrl: string) {
  if (kind === 'pglite') {
    const dir = await tempDir('vitrine-bench-log-');
    return { target: { dataDir: dir.path } as DatabaseOptions, drop: dir.cleanup };
  }
  const name = `vitrine_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    target: { url: url.toString() } as DatabaseOptions,
    drop: () => admin(`drop database ${name} with (force)`),
  };
}

async function openFresh(kind: 'postgres' | 'pglite', serverUrl: string) {
  const { target, drop } = await fresh(kind, serverUrl);
  const database = await openDatabase<RegistryDatabase>(target);
  await migrateToLatest(database.db, registryMigrations);
  return {
    db: database.db,
    async close() {
      await database.close();
      await drop();
    },
  };
}

/** Events a second appended with the log kept and checkpoints signed. */
async function appendsWithLog(kind: 'postgres' | 'pglite', serverUrl: string): Promise<number> {
  const { db, close } = await openFresh(kind, serverUrl);
  const signingKey = await generateSigningKeyPair();
  const log = new EventLog({ id: 'europe', jurisdiction: 'EU', signingKey });
  const checkpoints = new CheckpointPublisher({
    db,
    center: 'europe',
    signer: noteSigner('vitrine-bench/europe', signingKey),
    changes: log.changes,
    intervalMs: 1_000,
    onError: (err) => console.error(err),
  });
  checkpoints.start();
  try {
    const start = performance.now();
    for (let i = 0; i < events; i += BATCH) {
      const entries = Array.from({ length: Math.min(BATCH, events - i) }, (_, j) => record(i + j));
      await log.transact(db, (tx) => log.appendAll(tx, entries));
    }
    const seconds = (performance.now() - start) / 1000;
    await checkpoints.publish();
    return events / seconds;
  } finally {
    await checkpoints.stop();
    await close();
  }
}

/** Events a second when only their rows are inserted (signed beforehand, not timed). */
async function rawInserts(kind: 'postgres' | 'pglite', serverUrl: string): Promise<number> {
  const { db, close } = await openFresh(kind, serverUrl);
  const key = await generateSigningKeyPair();
  try {
    let prevDigest: Uint8Array = new Uint8Array();
    let elapsed = 0;
    for (let i = 0; i < events; i += BATCH) {
      const rows: ReturnType<typeof eventRow>[] = [];
      for (let j = i; j < Math.min(i + BATCH, events); j++) {
        const { actor, change } = record(j);
        const body = create(EventBodySchema, { actor, change: change as never });
        const fields = {
          origin: 'europe',
          seq: BigInt(j + 1),
          hlc: BigInt(j),
          prevDigest,
          residency: [],
        };
        const sealed = await sealEvent(fields, body, key);
        prevDigest = sealed.digest;
        rows.push(eventRow(sealed));
      }
      const start = performance.now();
      await db.transaction().execute((tx) => tx.insertInto('events').values(rows).execute());
      elapsed += performance.now() - start;
    }
    return events / (elapsed / 1000);
  } finally {
    await close();
  }
}

/** Builds a log of `size` leaves (synthetic, 150 bytes) and times inclusion proofs in it. */
async function proofs(kind: 'postgres' | 'pglite', serverUrl: string, size: number) {
  const { db, close } = await openFresh(kind, serverUrl);
  try {
    const buildStart = performance.now();
    for (let at = 0; at < size; at += 4096) {
      const batch = Array.from({ length: Math.min(4096, size - at) }, () => randomBytes(150));
      await db.transaction().execute((tx) => appendLogLeaves(tx, 'europe', at, batch));
    }
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const reader = logHashReader(db, 'europe');
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const index = Math.floor(Math.random() * size);
      const start = performance.now();
      await inclusionProof(index, size, reader);
      times.push(performance.now() - start);
    }
    return { buildSeconds, p50: median(times), p99: percentile(times, 99) };
  } finally {
    await close();
  }
}

const serverUrl = process.env.VITRINE_BENCH_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
const kinds: ('postgres' | 'pglite')[] = ['postgres', 'pglite'];
console.log(
  `transparency log: ${events} events, batches of ${BATCH}; proofs at ${leaves} leaves (PGlite ${pgliteLeaves})`,
);
for (const kind of kinds) {
  const withLog: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < 3; run++) {
    withLog.push(await appendsWithLog(kind, serverUrl));
    raw.push(await rawInserts(kind, serverUrl));
  }
  const appended = median(withLog);
  const inserted = median(raw);
  console.log(
    `${kind}: appends with log and checkpoints ${appended.toFixed(0)} events/s (runs ${withLog.map((r) => r.toFixed(0)).join(', ')}); raw row inserts ${inserted.toFixed(0)}/s; ratio ${(appended / inserted).toFixed(2)}`,
  );
  const p = await proofs(kind, serverUrl, kind === 'postgres' ? leaves : pgliteLeaves);
  console.log(
    `${kind}: ${kind === 'postgres' ? leaves : pgliteLeaves} leaves stored in ${p.buildSeconds.toFixed(1)} s; inclusion proof p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms`,
  );
}
