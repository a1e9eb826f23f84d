import { join } from 'node:path';
import { create, fromBinary } from '@bufbuild/protobuf';
import { ChunkStore } from '@vitrine/chunks';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import {
  AccessOutcome,
  AccessUsedSchema,
  EventHeaderSchema,
  type SignedEvent,
} from '@vitrine/proto/event';
import { type Database, migrateToLatest, openDatabase } from '@vitrine/storage';
import { type TestBackend, tempDir } from '@vitrine/testing';
import { ArtifactArrivals } from '../src/artifact-arrivals.js';
import { Artifacts } from '../src/artifacts.js';
import { ChunkReplica } from '../src/chunk-replica/index.js';
import { EventLog, type LogEntry } from '../src/event-log.js';
import { Findings } from '../src/findings.js';
import { registryMigrations } from '../src/migrations/index.js';
import { Replica } from '../src/replica.js';
import type { RegistryDatabase } from '../src/schema.js';

/** A center's domain objects over a real database and chunk folder, without a server. */
export interface TestCenter {
  id: string;
  jurisdiction: string;
  key: SigningKeyPair;
  database: Database<RegistryDatabase>;
  store: ChunkStore;
  log: EventLog;
  findings: Findings;
  artifacts: Artifacts;
  replica: Replica;
  chunks: ChunkReplica;
  cleanup(): Promise<void>;
}

/**
 * Opens center `id` on `backend`, wired as a registry server wires it (replica and chunk
 * replica share the artifact arrivals). Its public key goes into `keys`, which every test
 * center reads origin keys from. `now` is its clock (HLCs, embargoes).
 */
export async function openTestCenter(
  backend: TestBackend,
  id: string,
  jurisdiction: string,
  keys: Map<string, Uint8Array>,
  now: () => number = Date.now,
): Promise<TestCenter> {
  const target = await backend.open();
  const dir = await tempDir(`vitrine-center-${id}-`);
  const database = await openDatabase<RegistryDatabase>(target);
  await migrateToLatest(database.db, registryMigrations);
  const key = await generateSigningKeyPair();
  keys.set(id, key.publicKey);
  const identity = { id, jurisdiction, signingKey: key };
  const log = new EventLog(identity, undefined, now);
  const store = await ChunkStore.open(join(dir.path, 'chunks'), { durability: 'deferred' });
  const arrivals = new ArtifactArrivals();
  return {
    id,
    jurisdiction,
    key,
    database,
    store,
    log,
    findings: new Findings(database.db, log, id, now),
    artifacts: new Artifacts(database.db, log, store, identity, ['EU', 'US'], {
      maxArtifactBytes: 1n << 30n,
    }),
    replica: new Replica(database.db, log, identity, (origin) => keys.get(origin), arrivals),
    chunks: new ChunkReplica(database.db, store, arrivals),
    async cleanup() {
      await store.close();
      await database.close();
      await target.cleanup();
      await dir.cleanup();
    },
  };
}

/** An AccessUsed record to append: the cheapest local event, for tests of the log itself. */
export function accessRecord(i: number): LogEntry {
  const value = create(AccessUsedSchema, {
    principal: `partner:p-${i}`,
    method: 'GetArtifact',
    outcome: AccessOutcome.ALLOWED,
  });
  return { actor: `partner:p-${i}`, change: { case: 'accessUsed', value } };
}

/**
 * What `from` sends a peer whose position is `vector`, up to what `from` held when asked:
 * the feed sends in log order and then waits for new commits, so the drain stops once the
 * events cover `from`'s version vector rather than after an idle period. `onEvent` runs on
 * each event before the next is read. A feed that falls short fails after `giveUpMs`.
 */
export async function drainFeed(
  from: TestCenter,
  peer: { id: string; jurisdiction: string },
  vector: ReadonlyMap<string, bigint>,
  onEvent: (event: SignedEvent) => Promise<unknown> = async () => {},
  giveUpMs = 10_000,
): Promise<SignedEvent[]> {
  const missing = new Map<string, bigint>();
  for (const [origin, head] of await from.replica.versionVector()) {
    if (head > (vector.get(origin) ?? 0n)) missing.set(origin, head);
  }
  const got: SignedEvent[] = [];
  if (missing.size === 0) return got;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), giveUpMs);
  try {
    for await (const event of from.replica.feed(peer, new Map(vector), stop.signal)) {
      got.push(event);
      await onEvent(event);
      const { origin, seq } = fromBinary(EventHeaderSchema, event.header);
      if ((missing.get(origin) ?? 0n) <= seq) missing.delete(origin);
      if (missing.size === 0) return got;
    }
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
  throw new Error(`feed of ${from.id} stopped short of ${[...missing.keys()].join(', ')}`);
}

/** What `from` would send `to` right now. */
export async function pendingFeed(from: TestCenter, to: TestCenter): Promise<SignedEvent[]> {
  return drainFeed(from, to, await to.replica.versionVector());
}

/** Applies at `to` what `from` would send it right now; returns how many events that was. */
export async function sync(from: TestCenter, to: TestCenter): Promise<number> {
  const vector = await to.replica.versionVector();
  return (await drainFeed(from, to, vector, (event) => to.replica.ingest(event))).length;
}
