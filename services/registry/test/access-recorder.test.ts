import { generateSigningKeyPair } from '@vitrine/crypto';
import { AccessOutcome } from '@vitrine/proto/event';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { describe, expect, it } from 'vitest';
import { AccessRecorder, type AccessUse } from '../src/access/access-recorder.js';
import { EventLog } from '../src/event-log.js';
import { LogChanges } from '../src/log-changes.js';
import { registryMigrations } from '../src/migrations/index.js';
import type { RegistryDatabase } from '../src/schema.js';

/** LogChanges that counts the transactions which appended events. */
class CountedChanges extends LogChanges {
  transactions = 0;
  override committed(): void {
    this.transactions++;
    super.committed();
  }
}

function use(i: number): AccessUse {
  return {
    use: {
      principal: `partner:p${i}`,
      credentialId: `c${i}`,
      method: '/vitrine.registry.v1.RegistryService/GetArtifact',
      artifactId: '',
      findingId: '',
      outcome: AccessOutcome.ALLOWED,
      refusalCode: 0,
      refusalReason: '',
    },
    residency: [],
  };
}

describe.each(testBackends())('AccessRecorder on $name', (backend) => {
  async function setUp() {
    const target = await backend.open();
    const database = await openDatabase<RegistryDatabase>(target);
    await migrateToLatest(database.db, registryMigrations);
    const signingKey = await generateSigningKeyPair();
    const changes = new CountedChanges();
    const log = new EventLog({ id: 'europe', jurisdiction: 'EU', signingKey }, changes);
    const recorder = new AccessRecorder(database.db, log);
    return { target, db: database.db, changes, recorder };
  }

  it('commits the records waiting for the database in one transaction', async () => {
    const { target, db, changes, recorder } = await setUp();
    try {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // Another writer holds the log head (on PGlite, the one connection) for a while.
      const busy = db.transaction().execute(async (tx) => {
        await tx.selectFrom('log_heads').select('origin').forUpdate().execute();
        await gate;
      });
      const first = recorder.record(use(0));
      await new Promise((r) => setImmediate(r));
      const rest = Array.from({ length: 49 }, (_, i) => recorder.record(use(i + 1)));
      release();
      await busy;
      await Promise.all([first, ...rest]);
      const events = await db.selectFrom('events').select('seq').orderBy('seq').execute();
      expect(events.map((e) => Number(e.seq))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(changes.transactions).toBe(1);
    } finally {
      await db.destroy();
      await target.cleanup();
    }
  });

  it('fails the waiting calls when the database cannot start a transaction', async () => {
    const { target, db, recorder } = await setUp();
    await db.destroy();
    try {
      const results = await Promise.allSettled([recorder.record(use(1)), recorder.record(use(2))]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      await recorder.settled();
    } finally {
      await target.cleanup();
    }
  });
});
