import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadSodium } from '@vitrine/crypto';
import { ActorKind, DecisionKind } from '@vitrine/proto/access-decision';
import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { formatVerifierKey, hashLeaf, noteKey } from '@vitrine/tlog';
import { describe, expect, it } from 'vitest';
import { DecisionLog, openDecisionLeaf, partnerKeyRef, partnerRef } from '../src/decision-log.js';
import { accessMigrations } from '../src/migrations/index.js';
import type { AccessDatabase } from '../src/schema.js';

interface Example {
  seed: string;
  publicKey: string;
  vkey: string;
  atMs: number;
  partnerPublicKey: string;
  partnerId: string;
  partnerRef: string;
  partnerKeyRef: string;
  decision: string;
  signature: string;
  leaf: string;
  leafHash: string;
}

const example = JSON.parse(
  await readFile(new URL('./vectors/access-decision-example.json', import.meta.url), 'utf8'),
) as Example;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

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
            partnerPublicKey: partnerKey,
            jurisdictions: ['EU'],
          },
        );
      });
      const [leaf] = await log.store.leaves(1, 2);
      expect(hex(leaf as Uint8Array)).toBe(example.leaf);
      expect(example.leaf).toBe(`0a7b${example.decision}1240${example.signature}`);
      // The references, computed here with node's own SHA-256 from the documented domains.
      const digest = (domain: string, value: Uint8Array) =>
        createHash('sha256').update(domain).update(value).digest('hex');
      const ref = digest('vitrine/access-partner/v1\n', Buffer.from(example.partnerId));
      expect(ref).toBe(example.partnerRef);
      expect(digest('vitrine/access-partner-key/v1\n', partnerKey)).toBe(example.partnerKeyRef);
      expect(hex(partnerRef(example.partnerId))).toBe(ref);
      expect(hex(partnerKeyRef(partnerKey))).toBe(example.partnerKeyRef);
      // The decision, field by field as the documented table and example spell it.
      expect(example.decision).toBe(
        [
          '0801', // index 1
          '1001', // kind 1 (partner registered)
          '1880e4ca91af33', // at_ms 1765000000000
          `5a02${Buffer.from('EU').toString('hex')}`, // jurisdictions
          '800101', // actor_kind 1 (partner)
          `8a0120${ref}`, // actor_ref (the partner's reference)
          `920120${ref}`, // partner_ref
          `9a0120${example.partnerKeyRef}`, // partner_key_ref
        ].join(''),
      );
      // Nothing in the leaf names the partner or its key in the clear.
      const raw = Buffer.from(leaf as Uint8Array);
      expect(raw.indexOf(Buffer.from(example.partnerId))).toBe(-1);
      expect(raw.indexOf(partnerKey)).toBe(-1);
      expect(hex(hashLeaf(leaf as Uint8Array))).toBe(example.leafHash);
      const opened = await openDecisionLeaf(leaf as Uint8Array, pair.publicKey);
      expect(opened).toMatchObject({
        index: 1n,
        kind: DecisionKind.PARTNER_REGISTERED,
        actorKind: ActorKind.PARTNER,
        actorRef: bytes(example.partnerRef),
        partnerRef: bytes(example.partnerRef),
        partnerKeyRef: bytes(example.partnerKeyRef),
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
