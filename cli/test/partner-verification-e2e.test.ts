import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@vitrine/crypto';
import {
  cosignatureLine,
  formatTlogProof,
  formatVerifierKey,
  noteKey,
  noteSigner,
  parseTlogProof,
  SignatureType,
  withSignatureLines,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorStatePath } from '../src/log-monitor.js';
import { startTestCenter, type TestCenter } from './test-center.js';

interface Step {
  step: string;
  ok: boolean;
  detail: string;
}

/**
 * The note (or signature line) with one byte of its last signature changed: past the key ID
 * (the first 4 bytes), so the line still names its key and must verify.
 */
function signatureByteChanged(note: string): string {
  return note.replace(/ (\S+)\n$/, (_m, b64: string) => {
    const bytes = Buffer.from(b64, 'base64');
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 1;
    return ` ${bytes.toString('base64')}\n`;
  });
}

/** A stand-in mirror of a center's /log/: passes everything through, changed as told. */
class LogMirror {
  server: Server | undefined;
  /** Changes the body served for a path (without the /log/ prefix); undefined: as is. */
  alter: (path: string, body: Buffer) => Buffer = (_path, body) => body;

  async start(origin: string): Promise<string> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '').replace(/^\/log\//, '');
      fetch(`${origin}/log/${path}`)
        .then(async (upstream) => {
          const body = Buffer.from(await upstream.arrayBuffer());
          res.statusCode = upstream.status;
          res.end(upstream.status === 200 ? this.alter(path, body) : body);
        })
        .catch(() => {
          res.statusCode = 502;
          res.end();
        });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/log/`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * Receipts, event listings and the log monitor, through the CLI against a real registry:
 * each verifies what the center signed, and each refuses a changed byte, naming the step.
 */
describe('partner-facing verification through the CLI (europe)', () => {
  let t: TestCenter;
  const mirror = new LogMirror();
  let mirrorUrl = '';
  let vkey = '';
  let keysFile = '';
  let artifactId = '';
  let copy = '';
  let firstCheckpoint = '';
  const content = randomBytes(300_000);
  const at = ['--center', 'europe'];

  async function checkpointSize(): Promise<number> {
    const run = await t.cli('log', 'checkpoint', ...at, '--json');
    return (run.json() as { treeSize: number }).treeSize;
  }

  async function waitForSize(size: number): Promise<void> {
    for (let i = 0; i < 600 && (await checkpointSize()) < size; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    t = await startTestCenter('vitrine-partner-verification-');
    vkey = formatVerifierKey(noteKey('vitrine/europe', t.registry.publicKey));
    keysFile = join(t.dir.path, 'keys.json');
    await writeFile(
      keysFile,
      JSON.stringify({ federation: 'vitrine', logs: [{ center: 'europe', vkey }] }),
    );
    copy = join(t.dir.path, 'agent.tar');
    await writeFile(copy, content);
    const pushed = await t.cli(
      'artifact',
      'push',
      copy,
      ...at,
      '--kind',
      'source',
      '--product',
      'agent',
      '--version',
      '1',
      '--json',
    );
    expect(pushed.code).toBe(0);
    artifactId = (pushed.json() as { artifact: { id: string } }).artifact.id;
    await waitForSize(1);
    firstCheckpoint = await (await fetch(`${t.registry.url}/log/checkpoint`)).text();
    const created = await t.cli(
      'finding',
      'create',
      ...at,
      '--artifact',
      artifactId,
      '--title',
      'Weak cipher',
      '--severity',
      'high',
    );
    expect(created.code).toBe(0);
    expect((await t.cli('finding', 'comment', 'europe-1', ...at, '--text', 'Seen on 1')).code).toBe(
      0,
    );
    await waitForSize(3);
    mirrorUrl = await mirror.start(t.registry.url);
  });
  afterAll(async () => {
    await mirror.stop();
    await t?.stop();
  });

  it('lists the events with every signature and chain link checked', async () => {
    const run = await t.cli('log', 'events', ...at, '--vkey', vkey, '--json');
    expect(run.code).toBe(0);
    const listed = run.json() as {
      verified: boolean;
      events: { seq: number; change: string; link: string; ok: boolean }[];
    };
    expect(listed.verified).toBe(true);
    expect(listed.events.map((e) => [e.seq, e.change, e.link])).toEqual([
      [1, `artifactPublished ${artifactId}`, 'linked'],
      [2, 'findingCreated europe-1', 'linked'],
      [3, 'commentAdded europe-1', 'linked'],
    ]);
    const human = await t.cli('log', 'events', ...at, '--vkey', vkey, '--after', '1');
    expect(human.stdout).toMatch(
      /^ok {4}europe\/2 {2}first {3}findingCreated europe-1 by operator:test$/m,
    );
    expect(human.stdout).toMatch(/^2 events of europe: 2 signed and whole, 1 chain links checked/m);
    const wrongKey = formatVerifierKey(noteKey('vitrine/europe', new Uint8Array(32).fill(7)));
    const forged = await t.cli('log', 'events', ...at, '--vkey', wrongKey);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/event europe\/1 failed its checks: signature by europe/);
  });

  it('writes a finding receipt with the signed event that verifies offline', async () => {
    const file = join(t.dir.path, 'europe-1.tlog-proof');
    const wrote = await t.cli('finding', 'receipt', 'europe-1', ...at, '-o', file, '--json');
    expect(wrote.code).toBe(0);
    expect(wrote.json()).toMatchObject({
      origin: 'europe',
      seq: 3,
      change: 'commentAdded europe-1',
    });
    const verified = await t.cli('verify', 'receipt', file, '--keys', keysFile, '--json');
    expect(verified.code).toBe(0);
    const report = verified.json() as { steps: Step[]; event: { change: string } };
    expect(report.steps.map((s) => s.step)).toEqual([
      'format',
      'checkpoint',
      'leaf',
      'event signature',
      'body',
      'inclusion',
    ]);
    expect(report.event.change).toBe('commentAdded europe-1');
    const created = join(t.dir.path, 'europe-1-created.tlog-proof');
    const chosen = await t.cli(
      'finding',
      'receipt',
      'europe-1',
      ...at,
      '--event',
      'europe/2',
      '-o',
      created,
    );
    expect(chosen.stdout).toMatch(/receipt for europe\/2 \(findingCreated europe-1\)/);
    expect((await t.cli('verify', 'receipt', created, '--keys', keysFile)).code).toBe(0);
    const wrongEvent = await t.cli('finding', 'receipt', 'europe-1', ...at, '--event', 'europe/1');
    expect(wrongEvent.code).toBe(1);
    expect(wrongEvent.stderr).toMatch(/is artifactPublished .*, not about finding europe-1/);
    // No cosignatures yet: a quorum of one other center is not met.
    const quorum = await t.cli(
      'verify',
      'receipt',
      file,
      '--keys',
      keysFile,
      '--witness-quorum',
      '1',
      '--json',
    );
    expect(quorum.code).toBe(1);
    expect((quorum.json() as { steps: Step[] }).steps.at(-1)).toMatchObject({
      step: 'witnesses',
      ok: false,
    });
  });

  it('counts valid cosignatures by other centers toward --witness-quorum', async () => {
    const file = join(t.dir.path, 'cosigned.tlog-proof');
    await t.cli('finding', 'receipt', 'europe-1', ...at, '-o', file);
    const proof = parseTlogProof(await readFile(file, 'utf8'));
    const text = proof.checkpoint.slice(0, proof.checkpoint.indexOf('\n\n') + 1);
    const asia = await generateSigningKeyPair();
    const us = await generateSigningKeyPair();
    const witness = (center: string, key: typeof asia) =>
      noteSigner(`vitrine/${center}/witness`, key, SignatureType.cosignatureV1);
    const now = Math.floor(Date.now() / 1000);
    const lines = [
      await cosignatureLine(text, witness('asia', asia), now),
      await cosignatureLine(text, witness('us', us), now),
    ];
    // asia's key given as its center key (its witness key derived), us's witness key as is.
    const withKeys = join(t.dir.path, 'keys-with-witnesses.json');
    await writeFile(
      withKeys,
      JSON.stringify({
        logs: [
          { center: 'europe', vkey },
          { center: 'asia', vkey: formatVerifierKey(noteKey('vitrine/asia', asia.publicKey)) },
          { center: 'us', witness: formatVerifierKey(witness('us', us)) },
        ],
      }),
    );
    const quorum = async (note: string, n: number) => {
      await writeFile(file, formatTlogProof({ ...proof, checkpoint: note }));
      const run = await t.cli(
        'verify',
        'receipt',
        file,
        '--keys',
        withKeys,
        '--witness-quorum',
        String(n),
        '--json',
      );
      return {
        code: run.code,
        report: run.json() as { steps: Step[]; event?: { checkpoint: { cosigners: string[] } } },
      };
    };
    const cosigned = withSignatureLines(proof.checkpoint, lines);
    const two = await quorum(cosigned, 2);
    expect(two.code).toBe(0);
    expect(two.report.event?.checkpoint.cosigners).toEqual([
      'vitrine/asia/witness',
      'vitrine/us/witness',
    ]);
    const three = await quorum(cosigned, 3);
    expect(three.code).toBe(1);
    expect(three.report.steps.at(-1)).toMatchObject({ step: 'witnesses', ok: false });
    // One cosignature alone meets one, not two.
    const one = withSignatureLines(proof.checkpoint, lines.slice(0, 1));
    expect((await quorum(one, 1)).code).toBe(0);
    expect((await quorum(one, 2)).report.steps.at(-1)).toMatchObject({
      step: 'witnesses',
      ok: false,
    });
    // A cosignature by a known witness that does not verify refuses the checkpoint.
    const bad = signatureByteChanged(lines[1] ?? '');
    const broken = await quorum(withSignatureLines(proof.checkpoint, [lines[0] ?? '', bad]), 1);
    expect(broken.code).toBe(1);
    expect(broken.report.steps.at(-1)).toMatchObject({ step: 'checkpoint', ok: false });
  });

  it('refuses a receipt with one byte changed, naming the step', async () => {
    const file = join(t.dir.path, 'tampered.tlog-proof');
    await t.cli('finding', 'receipt', 'europe-1', ...at, '-o', file);
    const original = parseTlogProof(await readFile(file, 'utf8'));
    const extra = Buffer.from(original.extra ?? []);
    const flipped = (bytes: Buffer, at: number) => {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] ?? 0) ^ 1;
      return copy;
    };
    const headerLength = extra[1] ?? 0;
    const cases: [string, string][] = [
      // The last byte of the body (the comment's text).
      ['body', formatTlogProof({ ...original, extra: flipped(extra, extra.length - 1) })],
      // A byte inside the signed header (its HLC).
      [
        'event signature',
        formatTlogProof({ ...original, extra: flipped(extra, 2 + headerLength - 40) }),
      ],
      // A byte of the origin's signature on the checkpoint.
      [
        'checkpoint',
        formatTlogProof({
          ...original,
          checkpoint: signatureByteChanged(original.checkpoint),
        }),
      ],
      // A byte of the index.
      ['leaf', (await readFile(file, 'utf8')).replace(/^index 2$/m, 'index 1')],
    ];
    for (const [step, text] of cases) {
      await writeFile(file, text);
      const run = await t.cli('verify', 'receipt', file, '--keys', keysFile, '--json');
      expect(run.code).toBe(1);
      const report = run.json() as { verified: boolean; steps: Step[] };
      expect(report.verified).toBe(false);
      expect(report.steps.at(-1)).toMatchObject({ step, ok: false });
    }
  });

  it('ties a copy of an artifact to its publication through the receipt', async () => {
    const receipt = join(t.dir.path, 'agent.tlog-proof');
    const wrote = await t.cli('artifact', 'receipt', artifactId.slice(0, 8), ...at, '-o', receipt);
    expect(wrote.code).toBe(0);
    const check = (file: string, r: string) =>
      t.cli('verify', 'artifact', file, '--receipt', r, '--keys', keysFile, '--json');
    const good = await check(copy, receipt);
    expect(good.code).toBe(0);
    const report = good.json() as { verified: boolean; id: string; steps: Step[] };
    expect(report).toMatchObject({ verified: true, id: artifactId });
    expect(report.steps.map((s) => s.step)).toContain('published');
    expect(report.steps.at(-1)).toMatchObject({ step: 'chunks', ok: true });
    const altered = Buffer.from(content);
    altered[200_000] = (altered[200_000] ?? 0) ^ 1;
    const bad = join(t.dir.path, 'agent-altered.tar');
    await writeFile(bad, altered);
    const refused = await check(bad, receipt);
    expect(refused.code).toBe(1);
    expect((refused.json() as { steps: Step[] }).steps.at(-1)).toMatchObject({
      step: 'content digest',
      ok: false,
    });
    const findingReceipt = join(t.dir.path, 'finding.tlog-proof');
    await t.cli('finding', 'receipt', 'europe-1', ...at, '-o', findingReceipt);
    const notPublication = await check(copy, findingReceipt);
    expect(notPublication.code).toBe(1);
    expect((notPublication.json() as { steps: Step[] }).steps.at(-1)).toMatchObject({
      step: 'published',
      ok: false,
    });
  });

  it('monitors the log from its tiles and remembers the checkpoint, 0600', async () => {
    const run = await t.cli('log', 'verify', ...at, '--vkey', vkey, '--json');
    expect(run.code).toBe(0);
    const report = run.json() as { verified: boolean; size: number; steps: Step[] };
    expect(report.verified).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual([
      'checkpoint',
      'since last seen',
      'entries',
      'hash tiles',
      'root',
      'consistency',
    ]);
    const state = monitorStatePath(join(t.dir.path, '.vitrine'), 'operator');
    expect((await stat(state)).mode & 0o777).toBe(0o600);
    const seen = JSON.parse(await readFile(state, 'utf8'));
    expect(seen['vitrine/europe'].size).toBe(report.size);
    const again = await t.cli('log', 'verify', ...at, '--vkey', vkey);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^ok {4}consistency: the tree of \d+ seen before is a prefix/m);
    expect(again.stdout).toMatch(/vitrine\/europe verified at size \d+$/m);
  });

  it('refuses a tile with a changed byte and a checkpoint gone backwards, naming the step', async () => {
    const verifyVia = async () => {
      const run = await t.cli(
        'log',
        'verify',
        ...at,
        '--vkey',
        vkey,
        '--tiles',
        mirrorUrl,
        '--json',
      );
      expect(run.code).toBe(1);
      return (run.json() as { steps: Step[] }).steps.at(-1);
    };
    const flip = (body: Buffer, at: number) => {
      const copy = Buffer.from(body);
      copy[at] = (copy[at] ?? 0) ^ 1;
      return copy;
    };
    mirror.alter = (path, body) => (path.startsWith('tile/0/') ? flip(body, 40) : body);
    expect(await verifyVia()).toMatchObject({ step: 'hash tiles', ok: false });
    mirror.alter = (path, body) => (path.startsWith('tile/entries/') ? flip(body, 30) : body);
    expect(await verifyVia()).toMatchObject({ step: 'entries', ok: false });
    mirror.alter = (path, body) => (path === 'checkpoint' ? Buffer.from(firstCheckpoint) : body);
    const back = await verifyVia();
    expect(back).toMatchObject({ step: 'since last seen', ok: false });
    expect(back?.detail).toMatch(/the log went back: size 1, after a checkpoint of size \d+/);
    // Nothing refused was remembered: the center itself still verifies.
    mirror.alter = (_path, body) => body;
    expect((await t.cli('log', 'verify', ...at, '--vkey', vkey, '--tiles', mirrorUrl)).code).toBe(
      0,
    );
  });
});
