import { DEFAULT_SKEW_SECONDS, keyIdOf, verifyTrustSnapshot } from '@vitrine/credentials';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { describe, expect, it } from 'vitest';
import { DecisionLog } from '../src/decision-log.js';
import { accessMigrations } from '../src/migrations/index.js';
import type { AccessDatabase } from '../src/schema.js';
import { bumpTrustVersion, TrustSnapshots } from '../src/trust-snapshots.js';

const HOUR_MS = 3_600_000;

describe.each(testBackends())('which token keys a snapshot trusts, on $name', (backend) => {
  it('keeps a retired key until its last credential has expired, then drops it', async () => {
    const target = await backend.open();
    const database = await openDatabase<AccessDatabase>(target);
    try {
      const { db } = database;
      await migrateToLatest(db, accessMigrations);
      const t0 = new Date('2026-11-28T10:00:00Z');
      const key = async (seq: number, retiredAt: Date | null) => {
        const pair = await generateSigningKeyPair();
        const keyId = await keyIdOf(pair.publicKey);
        await db
          .insertInto('token_keys')
          .values({
            key_id: keyId,
            seq,
            public_key: pair.publicKey,
            created_at: t0,
            retired_at: retiredAt,
          })
          .execute();
        return keyId;
      };
      // Retired at t0 + 1 h; its last credential expires at t0 + 5 h.
      const old = await key(1, new Date(t0.getTime() + HOUR_MS));
      const active = await key(2, null);
      await db
        .insertInto('credentials')
        .values({
          id: 'c-000000000000000000000001',
          subject: 'partner:p-000000000000',
          partner_id: 'p-000000000000',
          request_id: null,
          key_id: old,
          token: 'v4.public.x',
          issued_at: t0,
          not_before: t0,
          expires_at: new Date(t0.getTime() + 5 * HOUR_MS),
        })
        .execute();
      let now = new Date(t0.getTime() + 4 * HOUR_MS);
      const trustKey = await generateSigningKeyPair();
      const log = new DecisionLog(db, trustKey);
      await log.init();
      const snapshots = new TrustSnapshots(db, trustKey, log, () => now);
      const keysAt = async (at: Date) => {
        now = at;
        await db.transaction().execute((tx) => bumpTrustVersion(tx));
        await snapshots.publish();
        const message = await snapshots.current();
        const snapshot = await verifyTrustSnapshot(message, trustKey.publicKey);
        return snapshot.keys.map((k) => k.keyId);
      };
      expect(await keysAt(new Date(t0.getTime() + 4 * HOUR_MS))).toEqual([old, active]);
      // The old key leaves once its last token has expired and the skew centers allow has passed.
      const dropAt = new Date(t0.getTime() + 5 * HOUR_MS + DEFAULT_SKEW_SECONDS * 1000);
      expect(snapshots.nextKeyDrop).toEqual(dropAt);
      expect(await keysAt(new Date(t0.getTime() + 5 * HOUR_MS + 10_000))).toEqual([old, active]);
      // What the timer does at that moment: a new version without the key.
      now = new Date(dropAt.getTime() + 1_000);
      const before = await verifyTrustSnapshot(await snapshots.current(), trustKey.publicKey);
      await snapshots.dropExpiredKeys();
      const after = await verifyTrustSnapshot(await snapshots.current(), trustKey.publicKey);
      expect(after.version).toBeGreaterThan(before.version);
      expect(after.keys.map((k) => k.keyId)).toEqual([active]);
      expect(snapshots.nextKeyDrop).toBeUndefined();
      snapshots.close();
    } finally {
      await database.close();
      await target.cleanup();
    }
  });
});
