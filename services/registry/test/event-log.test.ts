import { create } from '@bufbuild/protobuf';
import { generateSigningKeyPair, sha256 } from '@vitrine/crypto';
import { openEvent, packHlc } from '@vitrine/events';
import { FindingCreatedSchema, Severity } from '@vitrine/proto/finding';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../src/event-log.js';
import { registryMigrations } from '../src/migrations/index.js';
import type { RegistryDatabase } from '../src/schema.js';

describe.each(testBackends())('event log on $name', (backend) => {
  it('appends contiguous, hash-chained, signed events with monotonic HLCs', async () => {
    const target = await backend.open();
    const database = await openDatabase<RegistryDatabase>(target);
    try {
      await migrateToLatest(database.db, registryMigrations);
      const signingKey = await generateSigningKeyPair();
      let wall = 1_700_000_000_000;
      // The wall clock stalls for the second and third event, then jumps back.
      const clock = [wall, wall, wall, wall - 5_000, wall + 1];
      const log = new EventLog({ id: 'asia', jurisdiction: 'APAC', signingKey }, undefined, () => {
        wall = clock.shift() ?? wall;
        return wall;
      });
      for (let i = 0; i < 5; i++) {
        await database.db.transaction().execute((tx) =>
          log.append(tx, 'operator', (seq) => ({
            case: 'findingCreated',
            value: create(FindingCreatedSchema, {
              findingId: `asia-${seq}`,
              title: `t${i}`,
              severity: Severity.LOW,
            }),
          })),
        );
      }
      const rows = await database.db.selectFrom('events').selectAll().orderBy('seq').execute();
      expect(rows.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
      expect(rows.map((r) => r.hlc)).toEqual([
        packHlc(1_700_000_000_000, 0),
        packHlc(1_700_000_000_000, 1),
        packHlc(1_700_000_000_000, 2),
        packHlc(1_700_000_000_000, 3),
        packHlc(1_700_000_000_001, 0),
      ]);
      let prev: Uint8Array = new Uint8Array();
      for (const row of rows) {
        const opened = await openEvent(
          row.header,
          row.signature,
          row.body ?? undefined,
          (origin) => (origin === 'asia' ? signingKey.publicKey : undefined),
        );
        expect(opened.header.prevDigest).toEqual(prev);
        expect(opened.body?.change.case).toBe('findingCreated');
        expect(row.digest).toEqual(sha256(row.header));
        prev = row.digest;
      }
      const head = await database.db.selectFrom('log_heads').selectAll().executeTakeFirstOrThrow();
      expect(head).toMatchObject({ origin: 'asia', seq: 5n, digest: prev });

      // A failed transaction leaves neither an event nor a state change behind.
      await expect(
        database.db.transaction().execute(async (tx) => {
          await log.append(tx, 'operator', {
            case: 'findingCreated',
            value: create(FindingCreatedSchema, { findingId: 'asia-x', title: 'x' }),
          });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const after = await database.db.selectFrom('events').select('seq').execute();
      expect(after).toHaveLength(5);
      const findings = await database.db.selectFrom('findings').select('id').execute();
      expect(findings.map((f) => f.id).sort()).toEqual([
        'asia-1',
        'asia-2',
        'asia-3',
        'asia-4',
        'asia-5',
      ]);
    } finally {
      await database.close();
      await target.cleanup();
    }
  });
});
