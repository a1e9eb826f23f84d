/**
 * Bulk seeding of a long history for benchmarks: findings created at one center, written
 * straight into every center's database while the centers are stopped — what each would
 * hold had it created or replicated them, in a fraction of the time the RPC and the sync
 * links take. Real signed events (the origin's own key), real transparency-log leaves and
 * stored subtree hashes, the projections applied: the registry's own EventLog at the origin
 * (as `createFinding` appends), and at the others the store → apply → observe → record
 * steps EventIngest takes, BATCH events per transaction.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import type { SealedEvent } from '@vitrine/events';
import type { EventBody } from '@vitrine/proto/event';
import { FindingCreatedSchema, Severity } from '@vitrine/proto/finding';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import type { Kysely } from 'kysely';
import { EventLog } from '../services/registry/src/event-log.js';
import { registryMigrations } from '../services/registry/src/migrations/index.js';
import { applyEvents } from '../services/registry/src/projections/apply-event.js';
import { nextFindingNumber } from '../services/registry/src/queries/findings.js';
import type { RegistryDatabase } from '../services/registry/src/schema.js';

/** Events per transaction: one multi-row insert each for events, leaves and projections. */
const BATCH = 1024;

/** What the seeder needs of a center's written config (`<home>/config/<id>.json`). */
interface CenterFile {
  readonly registry: {
    readonly center: { readonly id: string; readonly jurisdiction: string };
    readonly dataDir: string;
    readonly databaseUrl?: string;
    readonly keyFile?: string;
    readonly embeddedDatabase?: { readonly sharedBuffers?: string };
  };
}

async function openCenter(home: string, id: string) {
  const file = JSON.parse(await readFile(join(home, 'config', `${id}.json`), 'utf8')) as CenterFile;
  const { registry } = file;
  const database = await openDatabase<RegistryDatabase>({
    url: registry.databaseUrl,
    dataDir: join(registry.dataDir, 'db'),
    ...(registry.embeddedDatabase?.sharedBuffers
      ? { sharedBuffers: registry.embeddedDatabase.sharedBuffers }
      : {}),
  } as Parameters<typeof openDatabase>[0]);
  await migrateToLatest(database.db, registryMigrations);
  const keyFile = registry.keyFile ?? join(registry.dataDir, 'keys', 'center.key');
  return { database, registry, keyFile };
}

/**
 * Appends `count` findings on `artifactId` (held everywhere, residency unrestricted) to
 * `origin`'s log and replicates them into each of `receivers`, all of which must be stopped.
 * Returns the milliseconds it took.
 */
export async function seedFindings(
  home: string,
  origin: string,
  receivers: readonly string[],
  artifactId: string,
  count: number,
): Promise<number> {
  const start = performance.now();
  const source = await openCenter(home, origin);
  const peers = await Promise.all(receivers.map((id) => openCenter(home, id)));
  try {
    const signingKey = await loadOrCreateKeyFile(source.keyFile);
    const log = new EventLog({ ...source.registry.center, signingKey });
    const peerLogs = await Promise.all(
      peers.map(async (p) => {
        const key = await loadOrCreateKeyFile(p.keyFile);
        return new EventLog({ ...p.registry.center, signingKey: key });
      }),
    );
    let number = await nextFindingNumber(source.database.db, origin);
    for (let done = 0; done < count; done += BATCH) {
      const size = Math.min(BATCH, count - done);
      const entries = Array.from({ length: size }, () => {
        const findingId = `${origin}-${number++}`;
        const value = create(FindingCreatedSchema, {
          findingId,
          artifactIds: [artifactId],
          title: `seeded finding ${findingId}`,
          severity: Severity.MEDIUM,
        });
        return { actor: 'operator:local', change: { case: 'findingCreated' as const, value } };
      });
      const sealed = await log.transact(source.database.db, (tx) => log.appendAll(tx, entries));
      await Promise.all(
        peers.map((p, i) => replicate(p.database.db, peerLogs[i] as EventLog, sealed)),
      );
    }
  } finally {
    await Promise.all([source, ...peers].map((c) => c.database.close()));
  }
  return performance.now() - start;
}

/** What EventIngest commits for a run of fresh events with bodies, next in their chain. */
async function replicate(
  db: Kysely<RegistryDatabase>,
  log: EventLog,
  sealed: readonly SealedEvent[],
): Promise<void> {
  const applied = sealed.map((e) => ({ header: e.header, body: e.body as EventBody }));
  await log.transact(db, async (tx) => {
    await log.store(tx, sealed);
    await applyEvents(tx, applied, false);
    await log.observe(tx, sealed.at(-1)?.header.hlc ?? 0n);
    await log.recordApplied(tx, applied);
  });
}
