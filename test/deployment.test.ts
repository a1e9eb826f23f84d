import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { freePortBlock, type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitrine, vitrineJson } from './cli-process.js';
import {
  CENTERS,
  type CenterHost,
  type RunbookHosts,
  type RunbookResult,
  runRunbook,
  type Served,
  serve,
  stop,
  syncCall,
} from './runbook.js';

/**
 * The runbook of docs/deployment.md, each host a folder: the root host, the access host,
 * three center hosts and an operator's machine. Only public files pass between folders;
 * the services run as real `vitrine serve` processes with mutual TLS between centers.
 */
describe('a federation set up with the set-up commands and run with vitrine serve', () => {
  let dir: TempDir;
  const p = (...parts: string[]) => join(dir.path, ...parts);
  let base = 0;
  const running: Served[] = [];
  const operator = () => ['--data', p('alice')];
  let runbook: RunbookResult;

  // The runbook is every other test's set-up, so it runs here: the tests run in any order.
  beforeAll(async () => {
    dir = await tempDir('vitrine-deploy-');
    base = await freePortBlock(7);
    const center = (i: number): CenterHost => ({
      registry: `http://127.0.0.1:${registryPort(i)}`,
      sync: `https://127.0.0.1:${syncPort(i)}`,
      registryListen: `127.0.0.1:${registryPort(i)}`,
      syncListen: `127.0.0.1:${syncPort(i)}`,
      addresses: [],
    });
    const hosts: RunbookHosts = {
      access: { url: `http://127.0.0.1:${base}`, listen: `127.0.0.1:${base}` },
      centers: { asia: center(0), europe: center(1), us: center(2) },
    };
    runbook = await runRunbook(dir.path, hosts);
  });
  afterAll(async () => {
    for (const s of running.reverse()) await stop(s);
    await dir.cleanup();
  });

  const registryPort = (i: number) => base + 1 + 2 * i;
  const syncPort = (i: number) => base + 2 + 2 * i;

  it('sets up keys on each host and signs the manifest from the public parts', () => {
    expect(runbook.signedCenters).toEqual(['asia', 'europe', 'us']);
    expect(runbook.tls).toEqual([true, true, true]);
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
    // Another root's public key, made in process: `federation init` runs in the runbook.
    const other = {
      rootKey: Buffer.from((await generateSigningKeyPair()).publicKey).toString('base64'),
    };
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
    // The centers start at once, as on three hosts; each retries its peers until they answer.
    const started = await Promise.allSettled(
      CENTERS.map((c) => serve('center', p(`${c.id}.json`))),
    );
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    CENTERS.forEach((c, i) => {
      const s = started[i];
      if (s?.status === 'rejected') throw s.reason;
      expect(s?.status === 'fulfilled' && s.value.ready).toMatchObject({
        service: 'center',
        center: c.id,
      });
    });
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
