import { readFileSync } from 'node:fs';
import { loadSodium } from '@vitrine/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cosignatureLine,
  formatCheckpoint,
  formatVerifierKey,
  LogError,
  MAX_NOTE_BYTES,
  type NoteSigner,
  noteSigner,
  openNote,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  SignatureType,
  signNote,
  withSignatureLines,
} from '../src/index.js';

// C2SP signed-note / tlog-checkpoint examples, golang.org/x/mod/sumdb/note's test keys and a
// real sum.golang.org checkpoint (vectors/SOURCE.md).
interface Vector {
  id: string;
  vkeys: string[];
  note: string;
  skey?: string;
  text?: string;
  signedByPeter?: string;
  noteWithCosignatures?: string;
  expect: {
    verifiedBy?: string[];
    text?: string;
    origin?: string;
    treeSize?: number;
    rootHashBase64?: string;
  };
}
const { vectors } = JSON.parse(
  readFileSync(new URL('./vectors/checkpoint/signed-note-vectors.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] };
const vector = (id: string) => vectors.find((v) => v.id === id) as Vector;

let sodium: Awaited<ReturnType<typeof loadSodium>>;
const fromSeed = (seed: Uint8Array) => {
  const pair = sodium.crypto_sign_seed_keypair(seed);
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
};
beforeAll(async () => {
  sodium = await loadSodium();
});

describe('published signed notes', () => {
  it('opens the C2SP Ed25519 example', async () => {
    const v = vector('c2sp-signed-note-ed25519-example');
    const opened = await openNote(v.note, v.vkeys.map(parseVerifierKey));
    expect(opened.text).toBe(v.expect.text);
    expect(opened.verified.map((s) => s.key.name)).toEqual(v.expect.verifiedBy);
  });

  it('splits a note whose text holds a blank line at the last blank line', () => {
    const v = vector('c2sp-signed-note-intro-example');
    const parsed = parseNote(v.note);
    expect(parsed.text).toBe(v.expect.text);
    expect(parsed.signatures.map((s) => s.name)).toEqual(['quasimodo.example/salvatore']);
  });

  it('reads the C2SP checkpoint example', () => {
    const v = vector('c2sp-tlog-checkpoint-example');
    const checkpoint = parseCheckpoint(parseNote(v.note).text);
    expect(checkpoint.origin).toBe(v.expect.origin);
    expect(checkpoint.size).toBe(v.expect.treeSize);
    expect(Buffer.from(checkpoint.root).toString('base64')).toBe(v.expect.rootHashBase64);
    expect(formatCheckpoint(checkpoint)).toBe(parseNote(v.note).text);
  });

  it('signs as golang.org/x/mod/sumdb/note does, byte for byte', async () => {
    const v = vector('golang-sumdb-note-sign-and-open');
    const peter = parseSignerKey(v.skey as string, fromSeed);
    expect(formatVerifierKey(peter)).toBe(v.vkeys[0]);
    expect(await signNote(v.text as string, [peter])).toBe(v.signedByPeter);
    const both = await openNote(v.note, v.vkeys.map(parseVerifierKey));
    expect(both.verified.map((s) => s.key.name)).toEqual(v.expect.verifiedBy);
    const peterOnly = await openNote(v.note, [parseVerifierKey(v.vkeys[0] as string)]);
    expect(peterOnly.verified.map((s) => s.key.name)).toEqual(['PeterNeumann']);
  });

  it('opens a real sum.golang.org checkpoint, ignoring signatures by unknown keys', async () => {
    const v = vector('sum-golang-org-real-checkpoint-with-cosignatures');
    const keys = v.vkeys.map(parseVerifierKey);
    const opened = await openNote(v.noteWithCosignatures as string, keys);
    expect(opened.verified.map((s) => s.key.name)).toEqual([
      'sum.golang.org',
      'monkeys',
      'bananas',
      'witness',
    ]);
    expect(opened.signatures).toHaveLength(6);
    expect(parseCheckpoint(opened.text).size).toBe(6476701);
  });
});

describe('checkpoints and cosignatures vitrine makes', () => {
  let log: NoteSigner;
  let witness: NoteSigner;
  const checkpoint = {
    origin: 'vitrine.example/europe',
    size: 8,
    root: new Uint8Array(32).fill(7),
    extensions: [],
  };

  beforeAll(() => {
    log = noteSigner('vitrine.example/europe', fromSeed(new Uint8Array(32).fill(1)));
    witness = noteSigner(
      'vitrine.example/asia',
      fromSeed(new Uint8Array(32).fill(2)),
      SignatureType.cosignatureV1,
    );
  });

  it('signs a checkpoint that opens with the log key, then adds a cosignature that verifies', async () => {
    const note = await signNote(formatCheckpoint(checkpoint), [log]);
    const cosigned = withSignatureLines(note, [
      await cosignatureLine(formatCheckpoint(checkpoint), witness, 1_700_000_000),
    ]);
    const opened = await openNote(cosigned, [
      parseVerifierKey(formatVerifierKey(log)),
      parseVerifierKey(formatVerifierKey(witness)),
    ]);
    expect(opened.verified.map((s) => [s.key.name, s.timestamp])).toEqual([
      ['vitrine.example/europe', undefined],
      ['vitrine.example/asia', 1_700_000_000],
    ]);
    expect(parseCheckpoint(opened.text)).toEqual(checkpoint);
  });

  it('refuses a note whose known signature fails, whichever byte changed', async () => {
    const note = await signNote(formatCheckpoint(checkpoint), [log]);
    const tampered = note.replace('\n8\n', '\n9\n');
    await expect(openNote(tampered, [log])).rejects.toMatchObject({
      reason: 'note-signature',
      code: 'data_loss',
    });
    const cosig = await cosignatureLine(formatCheckpoint(checkpoint), witness, 1_700_000_000);
    const shifted = withSignatureLines(note, [cosig]);
    const laterTime = shifted.replace(
      cosig,
      await cosignatureLine(formatCheckpoint({ ...checkpoint, size: 9 }), witness, 1),
    );
    await expect(openNote(laterTime, [log, witness])).rejects.toMatchObject({
      reason: 'note-signature',
    });
  });

  it('refuses a note signed by no trusted key', async () => {
    const note = await signNote(formatCheckpoint(checkpoint), [log]);
    await expect(openNote(note, [witness])).rejects.toMatchObject({ reason: 'unknown-key' });
  });

  it('refuses malformed notes, each with its reason', async () => {
    const note = await signNote(formatCheckpoint(checkpoint), [log]);
    const cases: [string, string][] = [
      ['no signatures', formatCheckpoint(checkpoint)],
      ['control character', note.replace('vitrine', 'vit\u0007rine')],
      ['bad base64', note.replace(/ [A-Za-z0-9+/=]+\n$/, ' !!!!\n')],
      ['short signature', note.replace(/ [A-Za-z0-9+/=]+\n$/, ' AAAA\n')],
      ['no em dash', note.replace('— ', '- ')],
      ['oversized', `${'a'.repeat(MAX_NOTE_BYTES)}\n\n${note.split('\n\n')[1]}`],
    ];
    for (const [, bad] of cases) {
      await expect(openNote(bad, [log]), bad.slice(0, 40)).rejects.toMatchObject({
        reason: 'malformed',
      });
    }
    await expect(openNote(Buffer.from([0xff, 0x0a, 0x0a]), [log])).rejects.toMatchObject({
      reason: 'malformed',
    });
  });

  it('never signs text a center signature of another kind could begin with', async () => {
    await expect(signNote('vitrine/event/v1\n', [log])).rejects.toBeInstanceOf(LogError);
    await expect(signNote('vitrine/manifest/v1\nx\n', [log])).rejects.toBeInstanceOf(LogError);
    await expect(signNote('vitrine/europe\n1\n', [log])).resolves.toMatch(
      /^vitrine\/europe\n1\n\n— /,
    );
  });

  it('refuses malformed checkpoints and verifier keys', () => {
    for (const text of [
      'o\n',
      'o\n08\nAAAA\n',
      `o\n1\n${'A'.repeat(42)}==\n`,
      `o\n-1\n${Buffer.alloc(32).toString('base64')}\n`,
      `o\n1\n${Buffer.alloc(32).toString('base64')}\n\n`,
    ]) {
      expect(() => parseCheckpoint(text), text).toThrow(LogError);
    }
    const good = formatVerifierKey(log);
    for (const vkey of [
      good.replace(/\+[0-9a-f]{8}\+/, '+00000000+'),
      'a+b',
      `${good}+x`,
      good.replace(/.$/, ''),
    ]) {
      expect(() => parseVerifierKey(vkey), vkey).toThrow(LogError);
    }
  });
});
