import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeSignedSnapshot, verifyTrustSnapshot } from '@vitrine/credentials';
import { readKeyFile } from '@vitrine/crypto';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { freePortBlock, type TempDir, tempDir } from '@vitrine/testing';
import {
  type NoteKey,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyCosignedCheckpoint,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_PORT_SPAN,
  type DevFederation,
  startDev,
  vitrine,
  vitrineJson,
} from './cli-process.js';

const run = promisify(execFile);
const pause = (ms: number) => new Promise<true>((resolve) => setTimeout(() => resolve(true), ms));
const BUF = new URL('../node_modules/.bin/buf', import.meta.url).pathname;

describe('vitrine dev: the local federation, driven through the CLI', () => {
  let home: TempDir;
  let dev: DevFederation;
  let basePort = 0;
  const at = (center: string) => ['--data', home.path, '--center', center];
  let artifactId = '';
  const content = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 2654435761) >>> 24);

  beforeAll(async () => {
    home = await tempDir('vitrine-dev-');
    basePort = await freePortBlock(DEV_PORT_SPAN);
    dev = await startDev(home.path, basePort);
  });
  afterAll(async () => {
    if (dev.child.exitCode === null) await dev.stop();
    await home.cleanup();
  });

  it('starts access and three centers and writes federation.json', async () => {
    expect(dev.ready.centers.map((c) => [c.id, c.jurisdiction])).toEqual([
      ['asia', 'APAC'],
      ['europe', 'EU'],
      ['us', 'US'],
    ]);
    expect(dev.ready.access).toBe(`http://127.0.0.1:${basePort}`);
    const federation = JSON.parse(await readFile(join(home.path, 'federation.json'), 'utf8'));
    expect(federation.centers[1].registry).toBe(`http://127.0.0.1:${basePort + 20}`);
    for (const key of [
      'centers/asia/keys/center.key',
      'access/keys/trust.key',
      'access/keys/token-1.key',
      'profiles/operator/key.json',
    ]) {
      expect((await stat(join(home.path, key))).mode & 0o777).toBe(0o600);
    }
  });

  it('pushes and pulls a multi-chunk artifact byte for byte', async () => {
    const file = join(home.path, 'agent.tar');
    await writeFile(file, content);
    const pushed = await vitrineJson<{ artifact: { id: string }; created: boolean }>([
      'artifact',
      'push',
      file,
      ...at('europe'),
      '--kind',
      'source',
      '--product',
      'agent',
      '--version',
      '7.1',
      '--residency',
      'EU,US',
    ]);
    expect(pushed.created).toBe(true);
    artifactId = pushed.artifact.id;
    const out = join(home.path, 'pulled.tar');
    await vitrineJson(['artifact', 'pull', artifactId, ...at('europe'), '-o', out]);
    expect(Buffer.compare(await readFile(out), content)).toBe(0);
  });

  it('records a finding and its lifecycle through the CLI', async () => {
    const { finding: created } = await vitrineJson<{ finding: { id: string; status: string } }>([
      'finding',
      'create',
      ...at('europe'),
      '--artifact',
      artifactId,
      '--title',
      'Debug endpoint left enabled',
      '--severity',
      'high',
    ]);
    expect(created.status).toBe('new');
    const id = created.id;
    await vitrineJson([
      'finding',
      'update',
      id,
      ...at('europe'),
      '--status',
      'triaged',
      '--assignee',
      'agent-team',
    ]);
    await vitrineJson(['finding', 'comment', id, ...at('europe'), '--text', 'Reproduced on 7.1']);
    const shown = await vitrineJson<{
      finding: { status: string; assignee: string };
      history: unknown[];
    }>(['finding', 'show', id, ...at('europe')]);
    expect(shown.finding).toMatchObject({ status: 'triaged', assignee: 'agent-team' });
    expect(shown.history).toHaveLength(3);
    const refused = await vitrine([
      'finding',
      'update',
      id,
      ...at('europe'),
      '--status',
      'disclosed',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/FAILED_PRECONDITION/);
  });

  it('serves health and reflection to buf curl openly, registry calls only with a credential', async () => {
    const europe = dev.ready.centers[1]?.registry ?? '';
    const listed = await run(BUF, [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '--list-services',
      europe,
    ]);
    expect(listed.stdout.split('\n')).toEqual(
      expect.arrayContaining(['grpc.health.v1.Health', 'vitrine.registry.v1.RegistryService']),
    );
    const health = await run(BUF, [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      `${europe}/grpc.health.v1.Health/Check`,
    ]);
    expect(JSON.parse(health.stdout)).toEqual({ status: 'SERVING' });
    // Reflection describes the method; the call itself needs a credential.
    const viaReflection = await run(BUF, [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '-d',
      JSON.stringify({ id: artifactId }),
      `${europe}/vitrine.registry.v1.RegistryService/GetArtifact`,
    ]).catch((err: { stderr: string }) => err);
    expect(viaReflection.stderr).toMatch(/unauthenticated/);
    const res = await fetch(`${europe}/vitrine.registry.v1.RegistryService/ListArtifacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('unauthenticated');
  });

  it('replicates to the other centers and reports sync status per peer', async () => {
    const atUs = async () => {
      const shown = await vitrineJson<{ artifact: { state: string } }>([
        'artifact',
        'show',
        artifactId,
        ...at('us'),
      ]);
      return shown.artifact.state === 'available' ? shown : undefined;
    };
    // The last look is the one checked: no extra CLI process once it is available.
    let available = await atUs();
    for (let i = 0; i < 200 && !available; i++) {
      await new Promise((r) => setTimeout(r, 100));
      available = await atUs();
    }
    expect(available).toBeDefined();
    const status = await vitrineJson<{
      center: string;
      versionVector: Record<string, number>;
      peers: { id: string; connected: boolean }[];
    }>(['sync', 'status', ...at('us')]);
    expect(status.center).toBe('us');
    expect(status.versionVector.europe).toBeGreaterThanOrEqual(4);
    expect(status.peers.map((p) => [p.id, p.connected])).toEqual([
      ['asia', true],
      ['europe', true],
    ]);
    // EU and US residency: asia holds the events' headers but not the artifact.
    const asia = await vitrine(['artifact', 'show', artifactId, ...at('asia'), '--json']);
    expect(JSON.parse(asia.stdout).error.code).toBe('NOT_FOUND');
  });

  it('reports one convergence digest at every center at rest, beside state digests residency sets apart', async () => {
    type Status = {
      convergenceDigest: string;
      stateDigest: string;
      bodiesPending: number;
      eventsHeldBack: number;
      peers: { id: string; lastError: string | null }[];
    };
    const statuses = () =>
      Promise.all(
        ['asia', 'europe', 'us'].map((c) => vitrineJson<Status>(['sync', 'status', ...at(c)])),
      );
    let all = await statuses();
    const atRest = (s: Status[]) =>
      s.every((x) => x.bodiesPending === 0 && x.convergenceDigest === s[0]?.convergenceDigest);
    for (let i = 0; i < 100 && !atRest(all); i++) {
      await new Promise((r) => setTimeout(r, 100));
      all = await statuses();
    }
    const [asia, europe, us] = all as [Status, Status, Status];
    expect(atRest(all)).toBe(true);
    expect(asia.convergenceDigest).toMatch(/^[0-9a-f]{64}$/);
    // asia holds no body of the EU,US artifact's events; europe and us hold them all.
    expect(asia.stateDigest).not.toBe(us.stateDigest);
    expect(europe.stateDigest).toBe(us.stateDigest);
    for (const s of all) for (const p of s.peers) expect(p.lastError ?? '').not.toMatch(/body/);
    const text = await vitrine(['sync', 'status', ...at('asia')]);
    expect(text.stdout).toMatch(new RegExp(`convergence digest:? +${asia.convergenceDigest}\n`));
    expect(text.stdout).toMatch(/bodies pending:? +0\n/);
  });

  it('lets a partner read within its grant at its center only, and refuses it once revoked', async () => {
    const as = ['--data', home.path, '--profile', 'regulator'];
    await vitrineJson([
      'partner',
      'register',
      ...as,
      '--org',
      'EU Regulator',
      '--jurisdiction',
      'EU',
      '--contact',
      'sec@regulator.example',
    ]);
    const asked = await vitrineJson<{ request: { id: string } }>([
      'access',
      'request',
      ...as,
      '--jurisdiction',
      'EU',
      '--kind',
      'source',
      '--product',
      'agent',
      '--action',
      'read',
      '--for',
      '2h',
      '--justification',
      'certification',
    ]);
    const approved = await vitrineJson<{ request: { credentialId: string } }>([
      'access',
      'approve',
      asked.request.id,
      '--data',
      home.path,
      '--reason',
      'in scope',
    ]);
    await vitrineJson(['access', 'show', asked.request.id, ...as]);
    const shown = await vitrineJson<{ artifact: { product: string } }>([
      'artifact',
      'show',
      artifactId,
      ...as,
      '--center',
      'europe',
    ]);
    expect(shown.artifact.product).toBe('agent');
    const elsewhere = await vitrine(['artifact', 'show', artifactId, ...as, '--center', 'us']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(
      /^vitrine: us: credential is not valid at center us \(PERMISSION_DENIED\)\n$/,
    );
    await vitrineJson([
      'access',
      'revoke',
      '--data',
      home.path,
      '--credential',
      approved.request.credentialId,
      '--reason',
      'done',
    ]);
    const revoked = await vitrine(['artifact', 'show', artifactId, ...as, '--center', 'europe']);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(
      /^vitrine: europe: credential has been revoked \(UNAUTHENTICATED\)\n$/,
    );
  });

  it('prints the access log’s vkey; its checkpoint verifies, and every center keeps a snapshot naming its size and root', async () => {
    const { access } = await vitrineJson<{
      access: { origin: string; vkey: string; tiles: string };
    }>(['federation', 'keys', '--data', home.path]);
    expect(access.origin).toBe('vitrine-dev/access');
    expect(access.tiles).toBe(`http://127.0.0.1:${basePort}/log/`);
    const key = parseVerifierKey(access.vkey);
    const trustKey = (await readKeyFile(join(home.path, 'access/keys/trust.key')))?.publicKey;
    if (!trustKey) throw new Error('no access trust key in the dev folder');
    expect(Buffer.from(key.publicKey)).toEqual(Buffer.from(trustKey));
    // At least the first token key; earlier tests' registrations, approvals and revocations.
    const signedCheckpoint = async () => {
      const res = await fetch(`${access.tiles}checkpoint`);
      expect(res.status).toBe(200);
      return parseCheckpoint((await openNote(await res.text(), [key])).text);
    };
    let checkpoint = await signedCheckpoint();
    for (let tries = 0; tries < 200 && checkpoint.size < 1; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      checkpoint = await signedCheckpoint();
    }
    expect(checkpoint.origin).toBe('vitrine-dev/access');
    expect(checkpoint.size).toBeGreaterThanOrEqual(1);
    const kept = decodeSignedSnapshot(
      await readFile(join(home.path, 'centers/europe/access/trust-snapshot.bin')),
    );
    const snapshot = await verifyTrustSnapshot(kept, trustKey);
    expect(snapshot.accessLogSize).toBeGreaterThan(0n);
    const size = Number(snapshot.accessLogSize);
    const log = createGrpcClient(LogService, dev.ready.access);
    const latest = await log.getCheckpoint({});
    const { proof } = await log.getConsistencyProof({ oldSize: snapshot.accessLogSize });
    if (size < Number(latest.treeSize)) {
      verifyConsistency(
        size,
        Number(latest.treeSize),
        proof,
        snapshot.accessLogRoot,
        latest.rootHash,
      );
    } else {
      expect(Buffer.from(snapshot.accessLogRoot)).toEqual(Buffer.from(latest.rootHash));
    }
  });

  it('has each center’s checkpoint cosigned by the other two centers’ witnesses: final', async () => {
    const { logs } = await vitrineJson<{
      logs: { center: string; origin: string; vkey: string; tiles: string; witness: string }[];
    }>(['federation', 'keys', '--data', home.path]);
    for (const log of logs) {
      const witnesses = logs.filter((l) => l !== log).map((l) => parseVerifierKey(l.witness));
      let shown: { checkpoint: string; cosigners: string[]; quorum: number; final: boolean };
      do {
        shown = await vitrineJson(['log', 'checkpoint', ...at(log.center)]);
      } while (shown.cosigners.length < 2 && (await pause(200)));
      expect(shown).toMatchObject({ quorum: 1, final: true });
      expect([...shown.cosigners].sort()).toEqual(witnesses.map((w) => w.name).sort());
      const policy = { log: parseVerifierKey(log.vkey), witnesses, quorum: 2 };
      const verified = await verifyCosignedCheckpoint(shown.checkpoint, policy);
      expect(verified.cosigners).toHaveLength(2);
      const served = await (await fetch(`${log.tiles}checkpoint`)).text();
      expect((await verifyCosignedCheckpoint(served, policy)).checkpoint.origin).toBe(log.origin);
      await expect(
        verifyCosignedCheckpoint(shown.checkpoint, { ...policy, quorum: 3 }),
      ).rejects.toMatchObject({ reason: 'quorum' });
    }
  });

  it('signs each center’s log with the key `federation keys` prints; anyone fetches its checkpoint', async () => {
    const { federation, logs } = await vitrineJson<{
      federation: string;
      logs: { center: string; origin: string; vkey: string; tiles: string }[];
    }>(['federation', 'keys', '--data', home.path]);
    expect(federation).toBe('vitrine-dev');
    expect(logs.map((l) => [l.center, l.origin])).toEqual([
      ['asia', 'vitrine-dev/asia'],
      ['europe', 'vitrine-dev/europe'],
      ['us', 'vitrine-dev/us'],
    ]);
    const keys = logs.map((l) => parseVerifierKey(l.vkey));
    const notes: string[] = [];
    for (const log of logs) {
      const res = await fetch(`${log.tiles}checkpoint`);
      expect(res.status).toBe(200);
      notes.push(await res.text());
    }
    for (const [i, note] of notes.entries()) {
      const opened = await openNote(note, [keys[i] as NoteKey]);
      expect(parseCheckpoint(opened.text).origin).toBe(logs[i]?.origin);
      const others = keys.filter((_, j) => j !== i);
      await expect(openNote(note, others)).rejects.toMatchObject({ reason: 'unknown-key' });
    }
    const europe = parseCheckpoint((await openNote(notes[1] as string, keys)).text);
    expect(europe.size).toBeGreaterThan(1);
    const shown = await vitrineJson<{ treeSize: number; checkpoint: string }>([
      'log',
      'checkpoint',
      ...at('europe'),
    ]);
    expect(shown.treeSize).toBeGreaterThanOrEqual(europe.size);
    await openNote(shown.checkpoint, [keys[1] as NoteKey]);
    const { evidence } = await vitrineJson<{ evidence: unknown[] }>([
      'log',
      'evidence',
      ...at('us'),
    ]);
    expect(evidence).toEqual([]);
    // A receipt for europe's first event, checked offline with nothing but the vkeys.
    const keysFile = join(home.path, 'keys.json');
    await writeFile(keysFile, JSON.stringify({ federation, logs }));
    const receipt = join(home.path, 'europe-1.tlog-proof');
    await vitrineJson(['log', 'receipt', '--seq', '1', '-o', receipt, ...at('europe')]);
    const verified = await vitrine(['verify', 'receipt', receipt, '--keys', keysFile, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      verified: true,
      event: { origin: 'europe', seq: 1, checkpoint: { origin: 'vitrine-dev/europe' } },
    });
    const asiaOnly = await vitrine(['verify', 'receipt', receipt, '--vkey', logs[0]?.vkey ?? '']);
    expect(asiaOnly.code).toBe(1);
    expect(asiaOnly.stdout).toMatch(
      /^FAIL {2}checkpoint: .*\nreceipt not verified: checkpoint failed\n$/m,
    );
    const text = await readFile(receipt, 'utf8');
    const lines = text.split('\n');
    const hashLine = lines.findIndex((l, i) => i > 2 && /^[A-Za-z0-9+/]{43}=$/.test(l));
    lines[hashLine] = `${lines[hashLine]?.[0] === 'A' ? 'B' : 'A'}${lines[hashLine]?.slice(1)}`;
    await writeFile(receipt, lines.join('\n'));
    const tampered = await vitrine(['verify', 'receipt', receipt, '--keys', keysFile, '--json']);
    expect(tampered.code).toBe(1);
    const report = JSON.parse(tampered.stdout) as {
      verified: boolean;
      steps: { step: string; ok: boolean }[];
    };
    expect(report.verified).toBe(false);
    expect(report.steps.at(-1)).toMatchObject({ step: 'inclusion', ok: false });
    // A copy of the artifact, checked offline against its signed manifest and the vkeys.
    const manifest = join(home.path, 'agent.manifest.json');
    await vitrineJson(['artifact', 'manifest', artifactId, '-o', manifest, ...at('us')]);
    const copy = join(home.path, 'agent-copy.tar');
    await writeFile(copy, content);
    const checkCopy = () =>
      vitrine(['verify', 'artifact', copy, '--manifest', manifest, '--keys', keysFile, '--json']);
    const good = await checkCopy();
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ verified: true, id: artifactId });
    const altered = Buffer.from(content);
    altered[1_000_000] = (altered[1_000_000] ?? 0) ^ 1;
    await writeFile(copy, altered);
    const bad = await checkCopy();
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).steps.at(-1)).toMatchObject({
      step: 'content digest',
      ok: false,
    });
    const signedManifest = JSON.parse(await readFile(manifest, 'utf8'));
    const sig = Buffer.from(signedManifest.signature, 'base64');
    sig[0] = (sig[0] ?? 0) ^ 1;
    await writeFile(
      manifest,
      JSON.stringify({ ...signedManifest, signature: sig.toString('base64') }),
    );
    const forged = await checkCopy();
    expect(JSON.parse(forged.stdout).steps.at(-1)).toMatchObject({
      step: 'manifest signature',
      ok: false,
    });
    const resumed = await vitrine(['log', 'resume', '--origin', 'europe', ...at('us'), '--json']);
    expect(resumed.code).toBe(1);
    expect(JSON.parse(resumed.stdout).error.code).toBe('FAILED_PRECONDITION');
  });

  it('stops cleanly on SIGTERM and keeps every artifact and finding across a restart', async () => {
    expect(await dev.stop()).toBe(0);
    dev = await startDev(home.path, basePort);
    const { artifacts } = await vitrineJson<{ artifacts: { id: string }[] }>([
      'artifact',
      'ls',
      ...at('europe'),
    ]);
    expect(artifacts.map((a) => a.id)).toEqual([artifactId]);
    const { findings } = await vitrineJson<{ findings: { title: string }[] }>([
      'finding',
      'ls',
      ...at('europe'),
    ]);
    expect(findings.map((f) => f.title)).toEqual(['Debug endpoint left enabled']);
  });
});
