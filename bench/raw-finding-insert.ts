/**
 * The baseline for bulk findings replication: the rows that created findings leave in a
 * center's tables (the signed event, the finding, its artifact link, its field clocks, its
 * history entry), inserted with multi-row INSERTs, a batch per transaction, into a fresh
 * database of the same kind with the registry's schema. No verification, no derivation:
 * what the database alone can take.
 */
import { create } from '@bufbuild/protobuf';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import { type SealedEvent, sealEvent } from '@vitrine/events';
import { EventBodySchema } from '@vitrine/proto/event';
import { FindingCreatedSchema, Severity } from '@vitrine/proto/finding';
import { type DatabaseOptions, migrateToLatest, openDatabase } from '@vitrine/storage';
import type { Kysely } from 'kysely';
import { registryMigrations } from '../services/registry/src/migrations/index.js';
import { FINDING_FIELDS } from '../services/registry/src/projections/finding.js';
import { eventRow } from '../services/registry/src/queries/events.js';
import type { RegistryDatabase } from '../services/registry/src/schema.js';

/** Findings per transaction (each one is 11 rows). */
const BATCH = 1000;

/** Milliseconds spent inserting the rows of `count` findings (signing them is not timed). */
export async function rawFindingInsert(
  target: DatabaseOptions,
  count: number,
  artifactId: string,
): Promise<number> {
  const database = await openDatabase<RegistryDatabase>(target);
  try {
    await migrateToLatest(database.db, registryMigrations);
    const key = await generateSigningKeyPair();
    let elapsed = 0;
    let prev: Uint8Array = new Uint8Array();
    for (let first = 1; first <= count; first += BATCH) {
      const events: SealedEvent[] = [];
      for (let seq = first; seq < Math.min(first + BATCH, count + 1); seq++) {
        const sealed = await findingEvent(key, BigInt(seq), prev, artifactId);
        events.push(sealed);
        prev = sealed.digest;
      }
      const start = performance.now();
      await insertBatch(database.db, events, artifactId);
      elapsed += performance.now() - start;
    }
    return elapsed;
  } finally {
    await database.close();
  }
}

/** A signed FindingCreated event like the ones the origin appends. */
function findingEvent(
  key: SigningKeyPair,
  seq: bigint,
  prevDigest: Uint8Array,
  artifactId: string,
): Promise<SealedEvent> {
  const body = create(EventBodySchema, {
    actor: 'operator',
    change: {
      case: 'findingCreated',
      value: create(FindingCreatedSchema, {
        findingId: `raw-${seq}`,
        artifactIds: [artifactId],
        title: `bench finding ${seq}`,
        severity: Severity.MEDIUM,
      }),
    },
  });
  const fields = { origin: 'raw', seq, hlc: seq << 16n, prevDigest, residency: [] };
  return sealEvent(fields, body, key);
}

async function insertBatch(db: Kysely<RegistryDatabase>, events: SealedEvent[], artifact: string) {
  await db.transaction().execute(async (tx) => {
    const rows = events.map(({ header }) => ({
      id: `raw-${header.seq}`,
      origin: header.origin,
      seq: header.seq,
      hlc: header.hlc,
    }));
    await tx.insertInto('events').values(events.map(eventRow)).execute();
    await tx
      .insertInto('findings')
      .values(
        rows.map((r) => ({
          ...{ id: r.id, origin: r.origin, number: r.seq, title: `bench finding ${r.seq}` },
          ...{ description: '' },
          ...{ severity: 'medium', cvss_vector: '', status: 'new', assignee: '' },
          ...{ fix_artifact_id: '', residency: [], created_hlc: r.hlc, updated_hlc: r.hlc },
        })),
      )
      .execute();
    await tx
      .insertInto('finding_artifacts')
      .values(rows.map((r) => ({ finding_id: r.id, artifact_id: artifact })))
      .execute();
    await tx
      .insertInto('finding_field_versions')
      .values(
        rows.flatMap((r) =>
          FINDING_FIELDS.map((field) => ({
            finding_id: r.id,
            field,
            hlc: r.hlc,
            origin: r.origin,
          })),
        ),
      )
      .execute();
    await tx
      .insertInto('finding_history')
      .values(
        rows.map((r) => ({
          ...{ finding_id: r.id, origin: r.origin, seq: r.seq, hlc: r.hlc },
          overwritten_fields: [],
        })),
      )
      .execute();
  });
}
