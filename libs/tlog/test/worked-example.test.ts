import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { loadSodium } from '@vitrine/crypto';
import { EventHeaderSchema, SignedEventSchema } from '@vitrine/proto/event';
import { describe, expect, it } from 'vitest';
import {
  hashChildren,
  hashLeaf,
  noteKey,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';

// The worked example docs/transparency-log.md walks through (vectors/SOURCE.md).
const example = JSON.parse(
  readFileSync(new URL('./vectors/vitrine-worked-example.json', import.meta.url), 'utf8'),
);
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe('the worked example of docs/transparency-log.md', () => {
  it('has the vkey of its key, and a checkpoint that opens with it', async () => {
    const sodium = await loadSodium();
    const pair = sodium.crypto_sign_seed_keypair(hex(example.seedHex));
    expect(Buffer.from(pair.publicKey).toString('hex')).toBe(example.publicKeyHex);
    const key = parseVerifierKey(example.vkey);
    expect(key).toEqual(noteKey('vitrine-dev/europe', pair.publicKey));
    const checkpoint = parseCheckpoint((await openNote(example.checkpoint, [key])).text);
    expect(checkpoint).toMatchObject({ origin: 'vitrine-dev/europe', size: 3 });
    expect(Buffer.from(checkpoint.root).toString('hex')).toBe(example.root);
  });

  it('has leaves that are signed events of europe, in sequence, hashing to the root', async () => {
    const sodium = await loadSodium();
    const leaves: Uint8Array[] = example.leaves.map(hex);
    leaves.forEach((leaf, i) => {
      const signed = fromBinary(SignedEventSchema, leaf);
      expect(signed.body).toHaveLength(0);
      expect(fromBinary(EventHeaderSchema, signed.header)).toMatchObject({
        origin: 'europe',
        seq: BigInt(i + 1),
      });
      const message = Buffer.concat([Buffer.from('vitrine/event/v1\n'), signed.header]);
      expect(
        sodium.crypto_sign_verify_detached(signed.signature, message, hex(example.publicKeyHex)),
      ).toBe(true);
    });
    const hashes = leaves.map(hashLeaf);
    expect(hashes.map((h) => Buffer.from(h).toString('hex'))).toEqual(example.leafHashes);
    const root = hashChildren(
      hashChildren(hashes[0] as Uint8Array, hashes[1] as Uint8Array),
      hashes[2] as Uint8Array,
    );
    expect(Buffer.from(root).toString('hex')).toBe(example.root);
  });

  it('has proofs that verify', () => {
    const { inclusion, consistency } = example;
    verifyInclusion(
      hex(example.leafHashes[1]),
      inclusion.leafIndex,
      inclusion.treeSize,
      inclusion.proof.map(hex),
      hex(example.root),
    );
    verifyConsistency(
      consistency.oldSize,
      consistency.newSize,
      consistency.proof.map(hex),
      hex(consistency.oldRoot),
      hex(example.root),
    );
  });
});
