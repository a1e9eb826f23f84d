import { readFileSync } from 'node:fs';
import { loadSodium } from '@vitrine/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cosignatureLine,
  formatAddCheckpoint,
  formatCheckpoint,
  MAX_ADD_CHECKPOINT_BYTES,
  type NoteSigner,
  noteSigner,
  parseAddCheckpoint,
  parseCheckpoint,
  parseNote,
  parseTreeSize,
  SignatureType,
  signNote,
  verifyCosignedCheckpoint,
  withSignatureLines,
} from '../src/index.js';

// The examples of c2sp.org/tlog-witness and c2sp.org/tlog-cosignature (vectors/SOURCE.md).
const examples = JSON.parse(
  readFileSync(new URL('./vectors/witness/c2sp-witness-examples.json', import.meta.url), 'utf8'),
);

let sodium: Awaited<ReturnType<typeof loadSodium>>;
const keyPair = (fill: number) => {
  const pair = sodium.crypto_sign_seed_keypair(new Uint8Array(32).fill(fill));
  return { publicKey: pair.publicKey, secretKey: pair.privateKey };
};
beforeAll(async () => {
  sodium = await loadSodium();
});

describe('the C2SP witness examples', () => {
  it('parses the spec’s add-checkpoint request: old size, four proof lines, the checkpoint', () => {
    const { body, expect: want } = examples.addCheckpointRequest;
    const request = parseAddCheckpoint(body);
    expect(request.oldSize).toBe(want.oldSize);
    expect(request.proof).toHaveLength(want.proofLines);
    expect(request.proof.every((h) => h.length === 32)).toBe(true);
    const note = parseNote(request.note);
    expect(note.signatures).toHaveLength(want.signatures);
    const checkpoint = parseCheckpoint(note.text);
    expect([checkpoint.origin, checkpoint.size]).toEqual([want.origin, want.size]);
    expect(formatAddCheckpoint(request)).toBe(body);
  });

  it('reads the spec’s add-checkpoint response as cosignature/v1 signature lines', () => {
    const { body, expect: want } = examples.addCheckpointResponse;
    const cosigned = parseNote(`${examples.addCheckpointRequest.body.split('\n\n')[1]}\n\n${body}`);
    expect(cosigned.signatures.map((s) => s.name)).toEqual(want.names);
    expect(cosigned.signatures.every((s) => s.signature.length === want.signatureBytes)).toBe(true);
  });

  it('finds the spec’s cosignature key ID and timestamp, the time its signed message names', () => {
    const { note, signedMessage, expect: want } = examples.cosignedCheckpoint;
    const parsed = parseNote(note);
    const cosig = parsed.signatures.find((s) => s.name === want.cosigner);
    expect(cosig?.keyId.toString(16).padStart(8, '0')).toBe(want.keyId);
    expect(cosig?.signature.length).toBe(want.signatureBytes);
    const view = new DataView(cosig?.signature.buffer as ArrayBuffer, cosig?.signature.byteOffset);
    expect(Number(view.getBigUint64(0))).toBe(want.timestamp);
    expect(signedMessage).toBe(`cosignature/v1\ntime ${want.timestamp}\n${parsed.text}`);
  });
});

describe('add-checkpoint bodies refused', () => {
  const note = 'example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— x AAAA\n';
  const hash = 'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=';
  it.each([
    ['no empty line', `old 0\n${note.replace('\n\n', '\n')}`.replace(/\n\n/g, '\n')],
    ['no old line', `\n${note}`],
    ['a leading zero', `old 01\n\n${note}`],
    ['a negative size', `old -1\n\n${note}`],
    ['a size beyond 2^53', `old 9007199254740993\n\n${note}`],
    ['a short hash', `old 3\nAAAA\n\n${note}`],
    ['non-canonical base64', `old 3\n${hash.replace('w=', 'x=')}\n\n${note}`],
    ['a proof from size 0', `old 0\n${hash}\n\n${note}`],
    ['64 proof lines', `old 3\n${`${hash}\n`.repeat(64)}\n${note}`],
    ['too many bytes', `old 3\n\n${note}${'a'.repeat(MAX_ADD_CHECKPOINT_BYTES)}`],
  ])('refuses %s as invalid_argument', (_, body) => {
    expect(() => parseAddCheckpoint(body)).toThrow(
      expect.objectContaining({ reason: 'malformed', code: 'invalid_argument' }),
    );
  });

  it('refuses bytes that are not UTF-8', () => {
    const body = Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff, 0xfe, 0x0a])]);
    expect(() => parseAddCheckpoint(body)).toThrow(
      expect.objectContaining({ reason: 'malformed' }),
    );
  });

  it('reads a witness’s size answer, and refuses anything else', () => {
    expect(parseTreeSize('20852014\n')).toBe(20852014);
    for (const bad of ['12', '012\n', '-1\n', '1 2\n', '\n']) {
      expect(() => parseTreeSize(bad)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    }
  });
});

describe('a checkpoint verified with a cosignature quorum', () => {
  let log: NoteSigner;
  let witnesses: NoteSigner[];
  const checkpoint = {
    origin: 'vitrine.example/europe',
    size: 8,
    root: new Uint8Array(32).fill(7),
    extensions: [],
  };
  const text = formatCheckpoint(checkpoint);

  beforeAll(() => {
    log = noteSigner('vitrine.example/europe', keyPair(1));
    witnesses = [2, 3, 4].map((n) =>
      noteSigner(`vitrine.example/w${n}`, keyPair(n), SignatureType.cosignatureV1),
    );
  });

  async function cosigned(by: NoteSigner[]) {
    const lines = await Promise.all(by.map((w, i) => cosignatureLine(text, w, 1_700_000_000 + i)));
    return withSignatureLines(await signNote(text, [log]), lines);
  }

  it('takes a note signed by the log and cosigned by at least the quorum', async () => {
    const note = await cosigned([witnesses[0], witnesses[2]] as NoteSigner[]);
    const result = await verifyCosignedCheckpoint(note, { log, witnesses, quorum: 2 });
    expect(result.checkpoint).toEqual(checkpoint);
    expect(result.cosigners).toEqual([
      { name: 'vitrine.example/w2', timestamp: 1_700_000_000 },
      { name: 'vitrine.example/w4', timestamp: 1_700_000_001 },
    ]);
  });

  it('refuses a note with fewer cosignatures than the quorum, one witness counted once', async () => {
    const w = witnesses[0] as NoteSigner;
    const twice = withSignatureLines(await cosigned([w]), [await cosignatureLine(text, w, 5)]);
    await expect(
      verifyCosignedCheckpoint(twice, { log, witnesses, quorum: 2 }),
    ).rejects.toMatchObject({ reason: 'quorum' });
  });

  it('ignores cosignatures by keys it does not trust', async () => {
    const stranger = noteSigner('vitrine.example/w2', keyPair(9), SignatureType.cosignatureV1);
    const note = await cosigned([stranger]);
    await expect(
      verifyCosignedCheckpoint(note, { log, witnesses, quorum: 1 }),
    ).rejects.toMatchObject({ reason: 'quorum' });
    expect((await verifyCosignedCheckpoint(note, { log, witnesses, quorum: 0 })).cosigners).toEqual(
      [],
    );
  });

  it('refuses a note the log did not sign, however many witnesses cosigned it', async () => {
    const other = noteSigner('vitrine.example/europe', keyPair(8));
    const lines = await Promise.all(witnesses.map((w) => cosignatureLine(text, w, 1)));
    const note = withSignatureLines(await signNote(text, [other]), lines);
    await expect(
      verifyCosignedCheckpoint(note, { log, witnesses, quorum: 1 }),
    ).rejects.toMatchObject({ reason: 'unknown-key' });
  });

  it('refuses a note whose trusted cosignature does not verify', async () => {
    const note = await cosigned(witnesses);
    const line = await cosignatureLine(
      formatCheckpoint({ ...checkpoint, size: 9 }),
      witnesses[1] as NoteSigner,
      1,
    );
    const lines = note.split('\n');
    lines[lines.length - 3] = line.slice(0, -1);
    await expect(
      verifyCosignedCheckpoint(lines.join('\n'), { log, witnesses, quorum: 1 }),
    ).rejects.toMatchObject({ reason: 'note-signature' });
  });

  it('refuses a checkpoint of another origin than the policy names', async () => {
    const note = await cosigned(witnesses);
    await expect(
      verifyCosignedCheckpoint(note, { log, witnesses, quorum: 1, origin: 'vitrine.example/us' }),
    ).rejects.toMatchObject({ reason: 'checkpoint' });
  });

  it('will not sign a note that could stand in for a cosignature', async () => {
    const forged = 'cosignature/v1\ntime 1\nvitrine.example/europe\n8\nBwcH\n';
    await expect(signNote(forged, [log])).rejects.toMatchObject({ reason: 'malformed' });
  });
});
