import { readFile } from 'node:fs/promises';
import { loadSodium } from '@vitrine/crypto';
import { DecisionKind } from '@vitrine/proto/access-decision';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { formatVerifierKey, hashLeaf, noteKey } from '@vitrine/tlog';
import { describe, expect, it } from 'vitest';
import { DecisionLog, openDecisionLeaf } from '../src/decision-log.js';
import { accessMigrations } from '../src/migrations/index.js';
import type { AccessDatabase } from '../src/schema.js';

interface Example {
  seed: string;
  publicKey: string;
  vkey: string;
  atMs: number;
  partnerPublicKey: string;
  partnerId: string;
  decision: string;
  signature: string;
  leaf: string;
  leafHash: string;
}

const example = JSON.parse(
  await readFile(new URL('./vectors/access-decision-example.json', import.meta.url), 'utf8'),
) as Example;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('the access log’s leaf encoding, byte for byte (the documented worked example)', () => {
  it('records a partner registration as exactly the documented leaf', async () => {
    const [backend] = testBackends();
    if (!backend) throw new Error('no test backend');
    const target = await backend.open();
    const database = await openDatabase<AccessDatabase>(target);
    try {
      const { db } = database;
      await migrateToLatest(db, accessMigrations);
      const sodium = await loadSodium();
      const pair = sodium.crypto_sign_seed_keypair(Buffer.from(example.seed, 'hex'));
      const trustKey = { publicKey: pair.publicKey, secretKey: pair.privateKey };
      expect(hex(pair.publicKey)).toBe(example.publicKey);
      expect(formatVerifierKey(noteKey('vitrine-dev/access', pair.publicKey))).toBe(example.vkey);
      const log = new DecisionLog(db, trustKey);
      await log.init();
      const partnerKey = Buffer.from(example.partnerPublicKey, 'hex');
      await db.transaction().execute(async (tx) => {
        await log.record(
          tx,
          { kind: DecisionKind.KEY_ROTATED, atMs: BigInt(example.atMs), keyId: 'k-first' },
          {
            kind: DecisionKind.PARTNER_REGISTERED,
            atMs: BigInt(example.atMs),
            actor: `partner:${example.partnerId}`,
            partnerId: example.partnerId,
            publicKey: partnerKey,
            jurisdictions: ['EU'],
          },
        );
      });
      const [leaf] = await log.store.leaves(1, 2);
      expect(hex(leaf as Uint8Array)).toBe(example.leaf);
      expect(example.leaf).toBe(`0a59${example.decision}1240${example.signature}`);
      expect(hex(hashLeaf(leaf as Uint8Array))).toBe(example.leafHash);
      const opened = await openDecisionLeaf(leaf as Uint8Array, pair.publicKey);
      expect(opened).toMatchObject({
        index: 1n,
        kind: DecisionKind.PARTNER_REGISTERED,
        partnerId: example.partnerId,
        jurisdictions: ['EU'],
      });
      // One byte changed anywhere in the decision, or another key: refused as data loss.
      const altered = Buffer.from(example.leaf, 'hex');
      altered[10] = (altered[10] as number) ^ 1;
      await expect(openDecisionLeaf(altered, pair.publicKey)).rejects.toMatchObject({
        code: 'data_loss',
      });
      const other = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(0x44));
      await expect(openDecisionLeaf(leaf as Uint8Array, other.publicKey)).rejects.toMatchObject({
        code: 'data_loss',
      });
      await expect(
        openDecisionLeaf(Buffer.from('not a leaf'), pair.publicKey),
      ).rejects.toMatchObject({ code: 'data_loss' });
    } finally {
      await database.close();
      await target.cleanup();
    }
  });
});
