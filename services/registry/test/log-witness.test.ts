import { generateSigningKeyPair } from '@vitrine/crypto';
import { testBackends } from '@vitrine/testing';
import {
  cosignatureLine,
  formatAddCheckpoint,
  formatCheckpoint,
  noteSigner,
  openNote,
  parseCheckpoint,
  parseNote,
  signNote,
  verifyCosignedCheckpoint,
} from '@vitrine/tlog';
import { CosignatureStore } from '@vitrine/tlog-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointPublisher } from '../src/transparency/checkpoint-publisher.js';
import { CheckpointWitness } from '../src/transparency/checkpoint-witness.js';
import {
  type KnownLog,
  knownLogs,
  witnessKey,
  witnessSigner,
} from '../src/transparency/known-logs.js';
import { LogWitness } from '../src/transparency/log-witness.js';
import { accessRecord, openTestCenter, type TestCenter } from './test-center.js';

const FEDERATION = 'vitrine-test';

describe.each(testBackends())('a center as witness of a peer’s log on $name', (backend) => {
  const keys = new Map<string, Uint8Array>();
  let eu: TestCenter;
  let us: TestCenter;
  let publisher: CheckpointPublisher;
  let logs: KnownLog[];
  let evidence: CheckpointWitness;
  let witness: LogWitness;
  let appended = 0;
  const now = 1_700_000_000_000;

  async function grow(count: number) {
    const entries = Array.from({ length: count }, () => accessRecord(appended++));
    await eu.log.transact(eu.database.db, (tx) => eu.log.appendAll(tx, entries));
    return publisher.publish();
  }

  async function body(oldSize: number, note: string, newSize = parseSize(note)) {
    const proof = oldSize > 0 && oldSize < newSize ? await publisher.prove(oldSize, newSize) : [];
    return formatAddCheckpoint({ oldSize, proof, note });
  }

  async function held() {
    return (await witness.state(`${FEDERATION}/europe`))?.size;
  }

  /** A checkpoint signed with europe's key over any root: what a forked europe would sign. */
  async function signedByEurope(size: number, root: Uint8Array) {
    const signer = noteSigner(`${FEDERATION}/europe`, eu.key);
    const text = formatCheckpoint({ origin: signer.name, size, root, extensions: [] });
    return signNote(text, [signer]);
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
    logs = knownLogs(FEDERATION, [
      { id: 'europe', signingKey: eu.key.publicKey },
      { id: 'us', signingKey: us.key.publicKey },
    ]).filter((log) => log.id !== 'us');
    evidence = new CheckpointWitness(
      us.database.db,
      FEDERATION,
      (o) => keys.get(o),
      us.replica.forked,
    );
    witness = new LogWitness(
      us.database.db,
      witnessSigner(FEDERATION, 'us', us.key),
      logs,
      evidence,
      () => now,
    );
  });
  afterAll(async () => {
    await eu?.cleanup();
    await us?.cleanup();
  });

  it('cosigns a first checkpoint from old size 0, then each that a proof extends', async () => {
    const first = await grow(3);
    const answer = await witness.addCheckpoint(await body(0, first.note));
    expect(answer).toMatchObject({ status: 200, size: 3 });
    const line = answer.status === 200 ? answer.cosignature : '';
    const key = witnessKey(FEDERATION, 'us', us.key.publicKey);
    const opened = await openNote(first.note + line, [key]);
    expect(opened.verified).toEqual([{ key, timestamp: now / 1000 }]);
    expect(await held()).toBe(3);

    const second = await grow(5);
    expect(await witness.addCheckpoint(await body(3, second.note))).toMatchObject({
      status: 200,
      size: 8,
    });
    expect(await held()).toBe(8);
  });

  it('cosigns the checkpoint it holds again, same root, from its own size', async () => {
    const latest = await publisher.latest();
    const answer = await witness.addCheckpoint(await body(8, latest?.note ?? ''));
    expect(answer).toMatchObject({ status: 200, size: 8 });
  });

  it('answers 409 with its size when the old size is stale, and keeps its state', async () => {
    const next = await grow(2);
    for (const stale of [0, 3, 9]) {
      expect(await witness.addCheckpoint(await body(stale, next.note))).toMatchObject({
        status: 409,
        size: 8,
      });
    }
    expect(await held()).toBe(8);
  });

  it('answers 400 when the old size is beyond the checkpoint', async () => {
    const latest = await publisher.latest();
    const answer = await witness.addCheckpoint(
      formatAddCheckpoint({
        oldSize: 11,
        proof: [new Uint8Array(32)],
        note: latest?.note ?? '',
      }),
    );
    expect(answer.status).toBe(400);
    expect(await held()).toBe(8);
  });

  it('answers 400 to malformed bodies and notes', async () => {
    const latest = await publisher.latest();
    for (const bad of [
      'old 8\n',
      `old 08\n\n${latest?.note}`,
      `old 8\nnot-a-hash\n\n${latest?.note}`,
      'old 0\n\nno checkpoint here\n',
      `old 0\n\n${latest?.note.replace('\n\n', '\n')}`,
      `old 0\n\n${FEDERATION}/europe\nten\nAAAA\n\n— x AAAAAAAA\n`,
    ]) {
      expect((await witness.addCheckpoint(bad)).status).toBe(400);
    }
    expect(await held()).toBe(8);
  });

  it('answers 404 for a log it does not know, 403 for a checkpoint its key did not sign', async () => {
    const stranger = noteSigner('elsewhere.example/log', await generateSigningKeyPair());
    const text = formatCheckpoint({
      origin: stranger.name,
      size: 1,
      root: new Uint8Array(32),
      extensions: [],
    });
    const unknown = await signNote(text, [stranger]);
    expect((await witness.addCheckpoint(`old 0\n\n${unknown}`)).status).toBe(404);

    const latest = await publisher.latest();
    const impostor = noteSigner(`${FEDERATION}/europe`, await generateSigningKeyPair());
    const forged = await signNote(parseNote(latest?.note ?? '').text, [impostor]);
    expect((await witness.addCheckpoint(await body(8, forged, 10))).status).toBe(403);
    const note = latest?.note ?? '';
    const at = note.length - 12;
    const flipped = `${note.slice(0, at)}${note[at] === 'A' ? 'B' : 'A'}${note.slice(at + 1)}`;
    expect((await witness.addCheckpoint(await body(8, flipped, 10))).status).toBe(403);
    expect(await held()).toBe(8);
  });

  it('answers 422 to a proof that does not verify, and keeps it as evidence once, not refusing', async () => {
    const latest = await publisher.latest();
    const note = latest?.note ?? '';
    const proof = await publisher.prove(8, 10);
    const wrong = proof.map((h, i) => (i === 0 ? h.map((b) => b ^ 1) : h));
    const bad = formatAddCheckpoint({ oldSize: 8, proof: wrong, note });
    expect((await witness.addCheckpoint(bad)).status).toBe(422);
    expect((await witness.addCheckpoint(bad)).status).toBe(422);
    const short = formatAddCheckpoint({ oldSize: 8, proof: proof.slice(1), note });
    expect((await witness.addCheckpoint(short)).status).toBe(422);
    expect(await held()).toBe(8);
    const kept = await evidence.evidence('europe');
    expect(kept.map((e) => e.kind)).toEqual(['bad-proof']);
    expect(parseCheckpoint(parseNote(kept[0]?.otherNote ?? '').text).size).toBe(8);
    expect((await us.replica.forked.current()).has('europe')).toBe(false);
  });

  it('lets one of two concurrent add-checkpoints from one size win, by compare-and-swap', async () => {
    // A second registry process of the same center, over the same database.
    const twin = new LogWitness(
      us.database.db,
      witnessSigner(FEDERATION, 'us', us.key),
      logs,
      evidence,
    );
    const a = await publisher.latest();
    const b = await grow(4);
    const answers = await Promise.all([
      witness.addCheckpoint(await body(8, a?.note ?? '')),
      twin.addCheckpoint(await body(8, b.note)),
      witness.addCheckpoint(await body(8, b.note)),
      twin.addCheckpoint(await body(8, a?.note ?? '')),
    ]);
    const won = answers.filter((x) => x.status === 200);
    expect(won).toHaveLength(1);
    expect(answers.filter((x) => x.status === 409)).toHaveLength(3);
    expect(await held()).toBe(won[0]?.status === 200 ? won[0].size : -1);
  });

  it('keeps the two roots for one size as fork evidence and refuses the origin', async () => {
    const at = (await held()) ?? 0;
    const forked = await signedByEurope(at, new Uint8Array(32).fill(9));
    expect(await witness.addCheckpoint(`old ${at}\n\n${forked}`)).toMatchObject({
      status: 409,
      size: at,
    });
    const fork = (await evidence.evidence('europe')).find((e) => e.kind === 'fork');
    expect(fork?.note).toBe(forked);
    expect(fork?.otherNote).toBe((await witness.state(`${FEDERATION}/europe`))?.note);
    expect((await us.replica.forked.current()).has('europe')).toBe(true);
  });

  it('gathers cosignatures for the log’s checkpoints and serves them, final at the quorum', async () => {
    const usWitness = witnessKey(FEDERATION, 'us', us.key.publicKey);
    const asia = await generateSigningKeyPair();
    const asiaWitness = witnessKey(FEDERATION, 'asia', asia.publicKey);
    const cosignatures = new CosignatureStore({
      db: eu.database.db,
      table: 'log_cosignatures',
      logColumn: 'origin',
      log: 'europe',
      checkpoints: publisher,
      witnesses: [usWitness, asiaWitness],
      quorum: 2,
    });
    const checkpoint = await grow(1);
    const text = parseNote(checkpoint.note).text;
    expect(await cosignatures.latest()).toMatchObject({ cosigners: [], final: false, quorum: 2 });

    const byUs = await cosignatureLine(text, witnessSigner(FEDERATION, 'us', us.key), 1);
    const stranger = witnessSigner(FEDERATION, 'mars', await generateSigningKeyPair());
    const ignored = await cosignatureLine(text, stranger, 1);
    expect(await cosignatures.add(checkpoint, ignored + byUs, usWitness)).toBe(1);
    const one = await cosignatures.latest();
    expect(one).toMatchObject({ cosigners: [usWitness.name], final: false });

    const byAsia = await cosignatureLine(text, witnessSigner(FEDERATION, 'asia', asia), 2);
    const at = byAsia.length - 12;
    const forgedAsia = `${byAsia.slice(0, at)}${byAsia[at] === 'A' ? 'B' : 'A'}${byAsia.slice(at + 1)}`;
    await expect(cosignatures.add(checkpoint, forgedAsia, asiaWitness)).rejects.toMatchObject({
      reason: 'note-signature',
    });
    expect(await cosignatures.add(checkpoint, byAsia, asiaWitness)).toBe(1);
    const served = await cosignatures.latest();
    expect(served).toMatchObject({ final: true, cosigners: [asiaWitness.name, usWitness.name] });
    const log = logs[0]?.key;
    if (log === undefined) throw new Error('no europe log');
    const verified = await verifyCosignedCheckpoint(served?.note ?? '', {
      log,
      witnesses: [usWitness, asiaWitness],
      quorum: 2,
    });
    expect(verified.checkpoint.size).toBe(checkpoint.size);
  });
});

function parseSize(note: string): number {
  return parseCheckpoint(parseNote(note).text).size;
}
