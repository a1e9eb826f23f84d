import { generateSigningKeyPair } from '@vitrine/crypto';
import { testBackends } from '@vitrine/testing';
import {
  consistencyProof,
  formatCheckpoint,
  noteSigner,
  parseNote,
  signNote,
  treeRoot,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointPublisher } from '../src/transparency/checkpoint-publisher.js';
import {
  CheckpointWitness,
  type ConsistencyProver,
} from '../src/transparency/checkpoint-witness.js';
import { logHashReader } from '../src/transparency/log-tree-store.js';
import { accessRecord, openTestCenter, pendingFeed, type TestCenter } from './test-center.js';

const FEDERATION = 'vitrine-test';

describe.each(testBackends())('a center witnessing a peer’s log on $name', (backend) => {
  const keys = new Map<string, Uint8Array>();
  let eu: TestCenter;
  let us: TestCenter;
  let publisher: CheckpointPublisher;
  let witness: CheckpointWitness;
  let appended = 0;

  /** Proofs as europe's LogService serves them: from its stored hashes. */
  const fromEurope: ConsistencyProver = (oldSize, newSize) =>
    consistencyProof(oldSize, newSize, logHashReader(eu.database.db, 'europe'));

  async function append(count: number) {
    const entries = Array.from({ length: count }, () => accessRecord(appended++));
    await eu.log.transact(eu.database.db, (tx) => eu.log.appendAll(tx, entries));
    return (await publisher.publish()).note;
  }

  async function replicate() {
    expect((await us.replica.ingestAll(await pendingFeed(eu, us))).refusal).toBeUndefined();
  }

  /** A checkpoint europe's key signs over any root: what a europe restored from an old backup signs. */
  async function signedByEurope(size: number, root: Uint8Array) {
    const signer = noteSigner(`${FEDERATION}/europe`, eu.key);
    return signNote(formatCheckpoint({ origin: signer.name, size, root, extensions: [] }), [
      signer,
    ]);
  }

  beforeAll(async () => {
    eu = await openTestCenter(backend, 'europe', 'EU', keys);
    us = await openTestCenter(backend, 'us', 'US', keys);
    publisher = new CheckpointPublisher({
      db: eu.database.db,
      center: 'europe',
      signer: noteSigner(`${FEDERATION}/europe`, eu.key),
      changes: eu.log.changes,
      intervalMs: 1000,
      onError: (err) => {
        throw err;
      },
    });
    witness = new CheckpointWitness(
      us.database.db,
      FEDERATION,
      (origin) => keys.get(origin),
      us.replica.forked,
    );
  });
  afterAll(async () => {
    await eu?.cleanup();
    await us?.cleanup();
  });

  it('takes checkpoints that extend what it holds and what it saw, checked by proofs', async () => {
    const first = await append(5);
    expect(await witness.observe('europe', first, true, fromEurope)).toEqual({
      outcome: 'taken',
      size: 5,
    });
    await replicate();
    const second = await append(3);
    expect(await witness.observe('europe', second, true, fromEurope)).toEqual({
      outcome: 'taken',
      size: 8,
    });
    await replicate();
    expect(await witness.observe('europe', second, true, fromEurope)).toEqual({
      outcome: 'taken',
      size: 8,
    });
    expect(await witness.evidence()).toEqual([]);
  });

  it('keeps a second root for one size as fork evidence, with both signed checkpoints', async () => {
    const forked = await signedByEurope(8, new Uint8Array(32).fill(9));
    const seen = await witness.observe('europe', forked, true, fromEurope);
    expect(seen).toMatchObject({
      outcome: 'evidence',
      evidence: { kind: 'fork', origin: 'europe' },
    });
    const [evidence] = await witness.evidence('europe');
    expect(evidence?.note).toBe(forked);
    expect(parseNote(evidence?.otherNote ?? '').text).toMatch(/^vitrine-test\/europe\n8\n/);
    expect(evidence?.otherNote).not.toBe(forked);
  });

  it('keeps a latest checkpoint smaller than one signed before as rollback evidence', async () => {
    const root = await treeRoot(6, logHashReader(eu.database.db, 'europe'));
    const rolledBack = await signedByEurope(6, root);
    const seen = await witness.observe('europe', rolledBack, true, fromEurope);
    expect(seen).toMatchObject({ outcome: 'evidence', evidence: { kind: 'rollback' } });
    // The same checkpoint, not offered as the latest, is an older true statement: taken.
    expect(await witness.observe('europe', rolledBack, false, fromEurope)).toEqual({
      outcome: 'taken',
      size: 6,
    });
  });

  it('keeps as inconsistent a checkpoint that disagrees with the events held, or whose proof fails', async () => {
    const wrongRoot = await signedByEurope(7, new Uint8Array(32).fill(1));
    const held = await witness.observe('europe', wrongRoot, false, fromEurope);
    expect(held).toMatchObject({ outcome: 'evidence', evidence: { kind: 'inconsistent' } });
    const ahead = await signedByEurope(12, new Uint8Array(32).fill(2));
    const proved = await witness.observe('europe', ahead, true, (a) => fromEurope(a, 8));
    expect(proved).toMatchObject({ outcome: 'evidence', evidence: { kind: 'inconsistent' } });
    expect((await witness.evidence()).map((e) => e.kind)).toEqual([
      'fork',
      'rollback',
      'inconsistent',
      'inconsistent',
    ]);
  });

  it('refuses a checkpoint no trusted key signed, keeping nothing', async () => {
    const impostor = noteSigner(`${FEDERATION}/europe`, await generateSigningKeyPair());
    const text = formatCheckpoint({
      origin: impostor.name,
      size: 20,
      root: new Uint8Array(32),
      extensions: [],
    });
    const forged = await signNote(text, [impostor]);
    await expect(witness.observe('europe', forged, true, fromEurope)).rejects.toMatchObject({
      code: 'data_loss',
      reason: 'unknown-key',
    });
    await expect(witness.observe('asia', forged, true, fromEurope)).rejects.toMatchObject({
      code: 'failed_precondition',
    });
    expect(await witness.evidence()).toHaveLength(4);
  });

  it('refuses the events of an origin found forked until an operator resumes it', async () => {
    await append(2);
    const got = await pendingFeed(eu, us);
    expect(got).toHaveLength(2);
    const refused = await us.replica.ingestAll(got);
    expect(refused.refusal).toMatchObject({ code: 'failed_precondition' });
    expect(String((refused.refusal as Error).message)).toMatch(
      /europe's transparency log was found forked/,
    );
    expect(await us.replica.forked.resume('europe', 'operator:sam')).toBe(4);
    expect(
      (await witness.evidence()).every((e) => e.resumedBy === 'operator:sam' && e.resumedAt),
    ).toBe(true);
    expect((await us.replica.ingestAll(got)).refusal).toBeUndefined();
    await expect(us.replica.forked.resume('europe', 'operator:sam')).rejects.toMatchObject({
      code: 'failed_precondition',
    });
  });
});
