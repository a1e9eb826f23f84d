import { setTimeout as sleep } from 'node:timers/promises';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { startTestTrust, type TestDatabase, type TestTrust, testBackends } from '@vitrine/testing';
import { parseNote } from '@vitrine/tlog';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomContent, startTestRegistry, type TestRegistry, uploadOf } from './harness.js';

/** Several registry processes of one center share its PostgreSQL server (PGlite has one). */
const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined)(
  'two checkpoint publishers of one center over one PostgreSQL database',
  () => {
    let database: TestDatabase;
    let trust: TestTrust;
    let one: TestRegistry;
    let two: TestRegistry;

    async function query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        return (await client.query<T>(text)).rows;
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      const backend = postgres as NonNullable<typeof postgres>;
      database = await backend.open();
      trust = await startTestTrust(['europe']);
      // Both publish as often as they may, so they race for every size.
      const log = { checkpointIntervalMs: 10 };
      one = await startTestRegistry(backend, { log }, { trust, database });
      two = await startTestRegistry(backend, { log }, { trust, database });
    });
    afterAll(async () => {
      await one?.cleanup();
      await two?.cleanup();
      await trust?.close();
      await database?.cleanup();
    });

    it('store at most one checkpoint per size, and both reach the log head', async () => {
      const pushed = await one.client.pushArtifact(
        uploadOf(
          { kind: ArtifactKind.SOURCE, product: 'agent', version: '1.0' },
          randomContent(10_000),
        ),
      );
      const artifact = pushed.artifact?.id ?? '';
      // Writes at both processes, interleaved, each one growing the shared log.
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 === 0 ? one : two).client.createFinding({
            artifactIds: [artifact],
            title: `finding ${i}`,
            severity: Severity.LOW,
          }),
        ),
      );
      const [head] = await query<{ seq: string }>(
        `select seq from log_heads where origin = 'europe'`,
      );
      const size = Number(head?.seq);
      expect(size).toBeGreaterThanOrEqual(13);
      for (;;) {
        const [latest] = await query<{ size: string }>(
          `select max(size) as size from log_checkpoints where origin = 'europe'`,
        );
        if (Number(latest?.size) === size) break;
        await sleep(50);
      }
      const twice = await query(
        `select size from log_checkpoints where origin = 'europe' group by size having count(*) > 1`,
      );
      expect(twice).toEqual([]);
      // Every stored checkpoint is a signed note of its own size.
      const stored = await query<{ size: string; note: string }>(
        `select size, note from log_checkpoints where origin = 'europe' order by size`,
      );
      expect(stored.length).toBeGreaterThan(0);
      for (const row of stored) {
        const note = parseNote(row.note);
        expect(note.text.split('\n')[1]).toBe(row.size);
      }
    });
  },
);
