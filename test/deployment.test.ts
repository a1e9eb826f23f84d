import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  createTestCertificateAuthority,
  freePortBlock,
  type TempDir,
  tempDir,
} from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VITRINE, vitrine, vitrineJson } from './cli-process.js';

/** A `vitrine serve … --json` process, once it has printed its ready line. */
interface Served {
  readonly child: ChildProcess;
  readonly ready: Record<string, unknown>;
}

async function serve(service: string, config: string): Promise<Served> {
  const child = spawn(process.execPath, [VITRINE, 'serve', service, '--config', config, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => {
      throw new Error(`vitrine serve ${service} exited ${code}: ${stderr}`);
    }),
  ]);
  const ready = JSON.parse(line) as Record<string, unknown>;
  if (ready.ready !== true) throw new Error(`vitrine serve ${service}: ${line}`);
  return { child, ready };
}

/**
 * One HTTP/2 request to a sync port with the given TLS options: 'answered' when the server
 * sent response headers (any status), else the error that ended the connection.
 */
function syncCall(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve) => {
    const session = connect(url, tls);
    const done = (result: string) => {
      session.destroy();
      resolve(result);
    };
    session.on('error', (err) => done(err.message));
    const req = session.request({
      ':method': 'POST',
      ':path': '/vitrine.sync.v1.SyncService/GetStatus',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('response', () => done('answered'));
    req.on('error', (err) => done(err.message));
    req.on('close', () => done('closed'));
    req.end();
  });
}

async function stop(served: Served | undefined): Promise<void> {
  if (!served || served.child.exitCode !== null) return;
  const exited = new Promise((resolve) => served.child.once('exit', resolve));
  served.child.kill('SIGTERM');
  await exited;
}

const CENTERS = [
  { id: 'asia', jurisdiction: 'APAC' },
  { id: 'europe', jurisdiction: 'EU' },
  { id: 'us', jurisdiction: 'US' },
] as const;

/**
 * The runbook of docs/deployment.md, each host a folder: the root host, the access host,
 * three center hosts and an operator's machine. Only public files pass between folders;
 * the services run as real `vitrine serve` processes with mutual TLS between centers.
 */
describe('a federation set up with the set-up commands and run with vitrine serve', () => {
  let dir: TempDir;
  const p = (...parts: string[]) => join(dir.path, ...parts);
  let rootKey = '';
  let base = 0;
  const running: Served[] = [];
  const operator = () => ['--data', p('alice')];

  beforeAll(async () => {
    dir = await tempDir('vitrine-deploy-');
    base = await freePortBlock(7);
    const ca = await createTestCertificateAuthority('acme-tc federation CA');
    await writeFile(p('ca.pem'), ca.cert);
    for (const c of CENTERS) {
      const pair = await ca.issue(c.id);
      await writeFile(p(`${c.id}.pem`), pair.cert);
      await writeFile(p(`${c.id}-key.pem`), pair.key, { mode: 0o600 });
    }
  });
  afterAll(async () => {
    for (const s of running.reverse()) await stop(s);
    await dir.cleanup();
  });

  const registryPort = (i: number) => base + 1 + 2 * i;
  const syncPort = (i: number) => base + 2 + 2 * i;

  it('sets up keys on each host and signs the manifest from the public parts', async () => {
    const root = await vitrineJson<{ rootKey: string }>([
      'federation',
      'init',
      '--name',
      'acme-tc',
      '--out',
      p('root'),
    ]);
    rootKey = root.rootKey;
    await vitrineJson([
      'access',
      'init',
      '--url',
      `http://127.0.0.1:${base}`,
      '--out',
      p('access-host'),
    ]);
    for (const [i, c] of CENTERS.entries()) {
      await vitrineJson([
        'center',
        'init',
        '--id',
        c.id,
        '--jurisdiction',
        c.jurisdiction,
        '--registry',
        `http://127.0.0.1:${registryPort(i)}`,
        '--sync',
        `https://127.0.0.1:${syncPort(i)}`,
        '--out',
        p(`${c.id}-host`),
      ]);
      await vitrineJson([
        'federation',
        'add-center',
        '--draft',
        p('root', 'federation-draft.json'),
        '--center',
        p(`${c.id}-host`, 'center-public.json'),
      ]);
    }
    await vitrineJson([
      'operator',
      'init',
      '--name',
      'alice',
      '--role',
      'operator',
      '--role',
      'approver',
      '--role',
      'security',
      '--data',
      p('alice'),
      '--out',
      p('alice.json'),
    ]);
    const signed = await vitrineJson<{ centers: string[] }>([
      'federation',
      'sign',
      '--draft',
      p('root', 'federation-draft.json'),
      '--root-key-file',
      p('root', 'federation-root.key'),
      '--access',
      p('access-host', 'access-public.json'),
      '--out',
      p('federation-manifest.json'),
      '--client',
      p('alice', 'federation.json'),
    ]);
    expect(signed.centers).toEqual(['asia', 'europe', 'us']);
    await vitrineJson([
      'config',
      'access',
      '--access-dir',
      p('access-host'),
      '--manifest',
      p('federation-manifest.json'),
      '--root-key',
      rootKey,
      '--listen',
      `127.0.0.1:${base}`,
      '--operator',
      p('alice.json'),
      '--out',
      p('access.json'),
    ]);
    for (const [i, c] of CENTERS.entries()) {
      const config = await vitrineJson<{ tls: boolean }>([
        'config',
        'center',
        '--center-dir',
        p(`${c.id}-host`),
        '--manifest',
        p('federation-manifest.json'),
        '--root-key',
        rootKey,
        '--access',
        p('access-host', 'access-public.json'),
        '--registry-listen',
        `127.0.0.1:${registryPort(i)}`,
        '--sync-listen',
        `127.0.0.1:${syncPort(i)}`,
        '--tls-cert',
        p(`${c.id}.pem`),
        '--tls-key',
        p(`${c.id}-key.pem`),
        '--tls-ca',
        p('ca.pem'),
        '--out',
        p(`${c.id}.json`),
      ]);
      expect(config.tls).toBe(true);
    }
  });

  it('refuses to serve a center whose config names a missing key file', async () => {
    const config = JSON.parse(await readFile(p('europe.json'), 'utf8'));
    config.sync.keyFile = p('europe-host', 'keys', 'gone.key');
    await writeFile(p('europe-missing-key.json'), JSON.stringify(config));
    const run = await vitrine([
      'serve',
      'center',
      '--config',
      p('europe-missing-key.json'),
      '--json',
    ]);
    expect(run.code).toBe(2);
    const error = JSON.parse(run.stdout).error;
    expect(error.code).toBe('CONFIG');
    expect(error.message).toContain(
      `sync.keyFile names ${config.sync.keyFile}, which does not exist`,
    );
  });

  it('refuses to serve a center whose manifest is signed by another root', async () => {
    const other = await vitrineJson<{ rootKey: string }>([
      'federation',
      'init',
      '--name',
      'impostor',
      '--out',
      p('other-root'),
    ]);
    const config = JSON.parse(await readFile(p('europe.json'), 'utf8'));
    config.sync.federationRootKey = other.rootKey;
    await writeFile(p('europe-other-root.json'), JSON.stringify(config));
    const run = await vitrine(['serve', 'center', '--config', p('europe-other-root.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `sync.manifestFile ${p('federation-manifest.json')} is not signed by sync.federationRootKey ${other.rootKey}`,
    );
    expect(run.stderr).toContain('(CONFIG)');
  });

  it('serves access and three centers that replicate over mutual TLS', async () => {
    running.push(await serve('access', p('access.json')));
    for (const c of CENTERS) {
      const center = await serve('center', p(`${c.id}.json`));
      running.push(center);
      expect(center.ready).toMatchObject({ service: 'center', center: c.id });
    }
    const file = p('firmware.bin');
    await writeFile(
      file,
      new Uint8Array(2 * 1024 * 1024 + 5).map((_, i) => (i * 2654435761) >>> 24),
    );
    const pushed = await vitrineJson<{ artifact: { id: string } }>([
      'artifact',
      'push',
      file,
      ...operator(),
      '--center',
      'europe',
      '--kind',
      'source',
      '--product',
      'router-os',
      '--version',
      '1.0',
      '--residency',
      'EU,US',
    ]);
    const id = pushed.artifact.id;
    const availableAtUs = async () => {
      const shown = await vitrine([
        'artifact',
        'show',
        id,
        ...operator(),
        '--center',
        'us',
        '--json',
      ]);
      return shown.code === 0 && JSON.parse(shown.stdout).artifact.state === 'available';
    };
    let available = await availableAtUs();
    for (let i = 0; i < 150 && !available; i++) {
      await new Promise((r) => setTimeout(r, 200));
      available = await availableAtUs();
    }
    expect(available).toBe(true);
    // The sync port speaks TLS only and wants a certificate from the federation's CA.
    const ca = await readFile(p('ca.pem'), 'utf8');
    const anonymous = await syncCall(`https://127.0.0.1:${syncPort(2)}`, { ca });
    expect(anonymous).toMatch(/certificate|socket|ECONNRESET|closed/i);
    const member = await syncCall(`https://127.0.0.1:${syncPort(2)}`, {
      ca,
      cert: await readFile(p('asia.pem'), 'utf8'),
      key: await readFile(p('asia-key.pem'), 'utf8'),
    });
    expect(member).toBe('answered');
  });
});
