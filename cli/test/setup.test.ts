import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyManifest } from '@vitrine/channel';
import { freePort, type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** Runs a set-up command with --json and returns its document, failing loudly otherwise. */
async function ok<T = Record<string, unknown>>(args: string[], env = {}): Promise<T> {
  const run = await runCli([...args, '--json'], { env });
  if (run.code !== 0) throw new Error(`vitrine ${args.join(' ')}: ${run.stdout}${run.stderr}`);
  return run.json() as T;
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('federation set-up commands', () => {
  let dir: TempDir;
  const p = (...parts: string[]) => join(dir.path, ...parts);
  let rootKey = '';

  beforeAll(async () => {
    dir = await tempDir('vitrine-setup-');
  });
  afterAll(() => dir.cleanup());

  it('makes the root key, centers’ keys and access key 0600, and prints only public parts', async () => {
    const root = await ok<{ rootKey: string; keyFile: string; federation: string }>([
      'federation',
      'init',
      '--name',
      'acme-tc',
      '--out',
      p('root'),
    ]);
    rootKey = root.rootKey;
    expect(root.federation).toBe('acme-tc');
    expect(await mode(root.keyFile)).toBe(0o600);
    expect(await readFile(root.keyFile, 'utf8')).toContain(rootKey);

    const again = await runCli(['federation', 'init', '--name', 'x', '--out', p('root')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');

    for (const [id, jurisdiction] of [
      ['europe', 'EU'],
      ['us', 'US'],
    ] as const) {
      const center = await ok<Record<string, unknown>>([
        'center',
        'init',
        '--id',
        id,
        '--jurisdiction',
        jurisdiction,
        '--registry',
        `http://${id}.example:7410`,
        '--sync',
        `https://${id}.example:7411`,
        '--out',
        p(id),
      ]);
      expect(center).toMatchObject({ id, jurisdiction, created: true });
      expect(center.signingKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(JSON.stringify(center)).not.toContain('secretKey');
      expect(await mode(p(id, 'keys', 'center.key'))).toBe(0o600);
      expect(await mode(p(id, 'keys', 'center-kx.key'))).toBe(0o600);
    }
    // Repeating keeps the keys: the public part is unchanged.
    const before = JSON.parse(await readFile(p('europe', 'center-public.json'), 'utf8'));
    const repeat = await ok<Record<string, unknown>>([
      'center',
      'init',
      '--id',
      'europe',
      '--jurisdiction',
      'EU',
      '--registry',
      'http://europe.example:7410',
      '--sync',
      'https://europe.example:7411',
      '--out',
      p('europe'),
    ]);
    expect(repeat.created).toBe(false);
    expect(repeat.signingKey).toBe(before.signingKey);

    const access = await ok<{ trustKey: string; keyFile: string }>([
      'access',
      'init',
      '--url',
      'http://access.example:7400',
      '--out',
      p('access'),
    ]);
    expect(await mode(access.keyFile)).toBe(0o600);
    const operator = await ok<{ name: string; roles: string[]; publicKey: string }>([
      'operator',
      'init',
      '--name',
      'alice',
      '--role',
      'operator',
      '--role',
      'approver',
      '--data',
      p('alice'),
      '--out',
      p('alice.json'),
    ]);
    expect(operator).toMatchObject({ name: 'alice', roles: ['operator', 'approver'] });
    expect(await mode(p('alice', 'profiles', 'operator', 'key.json'))).toBe(0o600);
  });

  it('refuses bad center input by flag name', async () => {
    const run = await runCli([
      'center',
      'init',
      '--id',
      'Europe!',
      '--jurisdiction',
      'eu',
      '--registry',
      'ftp://x',
      '--sync',
      'https://x:1',
      '--out',
      p('bad'),
    ]);
    expect(run.code).toBe(2);
    for (const flag of ['--id', '--jurisdiction', '--registry']) expect(run.stderr).toContain(flag);
  });

  it('signs a manifest that verifies against the root and lists every center added', async () => {
    const draft = p('root', 'federation-draft.json');
    for (const id of ['europe', 'us']) {
      await ok([
        'federation',
        'add-center',
        '--draft',
        draft,
        '--center',
        p(id, 'center-public.json'),
      ]);
    }
    const dup = await runCli([
      'federation',
      'add-center',
      '--draft',
      draft,
      '--center',
      p('us', 'center-public.json'),
      '--json',
    ]);
    expect(dup.code).toBe(2);
    expect(dup.json()).toMatchObject({ error: { code: 'USAGE' } });
    expect(dup.stdout).toContain('lists center us already');

    // Service levels go in the draft; bad days are refused when signing, by field.
    const sign = [
      'federation',
      'sign',
      '--draft',
      draft,
      '--root-key-file',
      p('root', 'federation-root.key'),
      '--access',
      p('access', 'access-public.json'),
      '--out',
      p('manifest.json'),
    ];
    const plain = JSON.parse(await readFile(draft, 'utf8'));
    await writeFile(
      draft,
      JSON.stringify({ ...plain, serviceLevels: { daysToFix: { high: -30 } } }),
    );
    const negative = await runCli([...sign, '--json']);
    expect(negative.code).not.toBe(0);
    expect(negative.json()).toMatchObject({ error: { code: 'CONFIG' } });
    expect(negative.stdout).toContain(
      'serviceLevels.daysToFix.high: whole days from 1 to 3650, or null for none',
    );
    const levels = { daysToFix: { high: 14 }, jurisdictions: { EU: { critical: 3 } } };
    await writeFile(draft, JSON.stringify({ ...plain, serviceLevels: levels }));
    const signed = await ok<{ rootKey: string; centers: string[] }>([
      'federation',
      'sign',
      '--draft',
      draft,
      '--root-key-file',
      p('root', 'federation-root.key'),
      '--access',
      p('access', 'access-public.json'),
      '--out',
      p('manifest.json'),
      '--client',
      p('alice', 'federation.json'),
    ]);
    expect(signed.rootKey).toBe(rootKey);
    const manifest = await verifyManifest(
      JSON.parse(await readFile(p('manifest.json'), 'utf8')),
      Buffer.from(rootKey, 'base64'),
    );
    expect(manifest.federation).toBe('acme-tc');
    expect(manifest.centers.map((c) => c.id)).toEqual(['europe', 'us']);
    expect(manifest.serviceLevels).toEqual({
      daysToFix: { critical: 7, high: 14, medium: 90, low: 180, info: null },
      jurisdictions: { EU: { critical: 3 } },
    });
    const access = JSON.parse(await readFile(p('access', 'access-public.json'), 'utf8'));
    expect(Buffer.from(manifest.access.trustKey ?? []).toString('base64')).toBe(access.trustKey);
    const client = JSON.parse(await readFile(p('alice', 'federation.json'), 'utf8'));
    expect(client.centers.map((c: { registry: string }) => c.registry)).toEqual([
      'http://europe.example:7410',
      'http://us.example:7410',
    ]);
  });

  it('writes a center config that names its key, manifest and TLS files', async () => {
    await writeFile(p('tls.pem'), 'placeholder PEM for a path check');
    const out = await ok<{ tls: boolean }>([
      'config',
      'center',
      '--center-dir',
      p('europe'),
      '--manifest',
      p('manifest.json'),
      '--root-key',
      rootKey,
      '--access',
      p('access', 'access-public.json'),
      '--registry-listen',
      '0.0.0.0:7410',
      '--sync-listen',
      '0.0.0.0:7411',
      '--tls-cert',
      p('tls.pem'),
      '--tls-key',
      p('tls.pem'),
      '--tls-ca',
      p('tls.pem'),
      '--out',
      p('europe.json'),
    ]);
    expect(out.tls).toBe(true);
    const config = JSON.parse(await readFile(p('europe.json'), 'utf8'));
    expect(config.registry).toMatchObject({
      center: { id: 'europe', jurisdiction: 'EU' },
      federation: 'acme-tc',
      jurisdictions: ['EU', 'US'],
      listen: { host: '0.0.0.0', port: 7410 },
      keyFile: p('europe', 'keys', 'center.key'),
    });
    expect(config.sync).toMatchObject({
      federationRootKey: rootKey,
      manifestFile: p('manifest.json'),
      tls: { certFile: p('tls.pem') },
    });
  });

  it('refuses a manifest signed by another root, naming the root key', async () => {
    const other = await ok<{ rootKey: string }>([
      'federation',
      'init',
      '--name',
      'other',
      '--out',
      p('other-root'),
    ]);
    const run = await runCli([
      'config',
      'center',
      '--center-dir',
      p('europe'),
      '--manifest',
      p('manifest.json'),
      '--root-key',
      other.rootKey,
      '--access',
      p('access', 'access-public.json'),
      '--registry-listen',
      '127.0.0.1:7410',
      '--sync-listen',
      '127.0.0.1:7411',
      '--out',
      p('wrong.json'),
      '--json',
    ]);
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({ error: { code: 'CONFIG' } });
    expect(run.stdout).toContain(`is not signed by the federation root key ${other.rootKey}`);
    await expect(stat(p('wrong.json'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a center the manifest does not list, and half a TLS setting', async () => {
    await ok([
      'center',
      'init',
      '--id',
      'asia',
      '--jurisdiction',
      'APAC',
      '--registry',
      'http://asia.example:7410',
      '--sync',
      'https://asia.example:7411',
      '--out',
      p('asia'),
    ]);
    const base = [
      'config',
      'center',
      '--manifest',
      p('manifest.json'),
      '--root-key',
      rootKey,
      '--access',
      p('access', 'access-public.json'),
      '--registry-listen',
      '127.0.0.1:7410',
      '--sync-listen',
      '127.0.0.1:7411',
      '--out',
      p('x.json'),
    ];
    const unlisted = await runCli([...base, '--center-dir', p('asia')]);
    expect(unlisted.code).toBe(2);
    expect(unlisted.stderr).toContain('does not list center asia');
    const half = await runCli([...base, '--center-dir', p('europe'), '--tls-cert', p('tls.pem')]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('needs all of --tls-cert, --tls-key and --tls-ca');
    const noFile = await runCli([
      ...base,
      '--center-dir',
      p('europe'),
      '--tls-cert',
      p('none.pem'),
      '--tls-key',
      p('tls.pem'),
      '--tls-ca',
      p('tls.pem'),
    ]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain(`--tls-cert names ${p('none.pem')}, which does not exist`);
  });

  it('writes a center config with its chunks in an S3 bucket, and refuses half an S3 setting', async () => {
    const base = [
      ...['config', 'center', '--center-dir', p('europe'), '--manifest', p('manifest.json')],
      ...['--root-key', rootKey, '--access', p('access', 'access-public.json')],
      ...['--registry-listen', '127.0.0.1:7410', '--sync-listen', '127.0.0.1:7411'],
      ...['--database-url', 'postgres://vitrine@db.internal:5432/europe'],
    ];
    await writeFile(p('s3-key.json'), '{"accessKeyId":"id","secretAccessKey":"secret"}', {
      mode: 0o600,
    });
    const out = await ok<{ chunkStore: string }>([
      ...base,
      ...['--s3-endpoint', 'http://objects.internal:9000', '--s3-bucket', 'europe-chunks'],
      ...['--s3-credentials-file', p('s3-key.json'), '--out', p('europe-s3.json')],
    ]);
    expect(out.chunkStore).toBe('s3://europe-chunks');
    const config = JSON.parse(await readFile(p('europe-s3.json'), 'utf8'));
    expect(config.registry.chunkStore).toEqual({
      kind: 's3',
      endpoint: 'http://objects.internal:9000',
      bucket: 'europe-chunks',
      credentialsFile: p('s3-key.json'),
    });
    expect(await readFile(p('europe-s3.json'), 'utf8')).not.toContain('secret');
    const half = await runCli([...base, '--s3-bucket', 'europe-chunks', '--out', p('x.json')]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('chunks in S3 need both --s3-endpoint and --s3-bucket');
    const notUrl = await runCli([
      ...base,
      ...['--s3-endpoint', 'objects:9000', '--s3-bucket', 'b', '--out', p('x.json')],
    ]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('--s3-endpoint objects:9000 is not an http(s) URL');
    const noKey = await runCli([
      ...base,
      ...['--s3-endpoint', 'http://objects.internal:9000', '--s3-bucket', 'b'],
      ...['--s3-credentials-file', p('none.json'), '--out', p('x.json')],
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain(
      `--s3-credentials-file names ${p('none.json')}, which does not exist`,
    );
    await expect(stat(p('x.json'))).rejects.toThrow(/ENOENT/);
  });

  it('writes an access config with the operators and one policy per jurisdiction', async () => {
    await ok([
      'config',
      'access',
      '--access-dir',
      p('access'),
      '--manifest',
      p('manifest.json'),
      '--root-key',
      rootKey,
      '--listen',
      '0.0.0.0:7400',
      '--operator',
      p('alice.json'),
      '--out',
      p('access.json'),
    ]);
    const config = JSON.parse(await readFile(p('access.json'), 'utf8'));
    expect(config.federation).toBe('acme-tc');
    expect(config.trustKeyFile).toBe(p('access', 'keys', 'trust.key'));
    expect(config.operators.map((o: { name: string }) => o.name)).toEqual(['alice']);
    expect(Object.keys(config.jurisdictions)).toEqual(['EU', 'US']);
    expect(config.jurisdictions.EU.centers).toEqual(['europe']);
  });

  it('refuses an access config without its trust key, by path', async () => {
    await rm(p('access2'), { recursive: true, force: true });
    const run = await runCli([
      'config',
      'access',
      '--access-dir',
      p('access2'),
      '--manifest',
      p('manifest.json'),
      '--root-key',
      rootKey,
      '--listen',
      '0.0.0.0:7400',
      '--operator',
      p('alice.json'),
      '--out',
      p('access2.json'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `names ${p('access2', 'keys', 'trust.key')}, which does not exist`,
    );
    expect(run.stderr).toContain('vitrine access init');
  });
});

describe('vitrine health', () => {
  it('fails with UNAVAILABLE when nothing answers, and refuses bad flags', async () => {
    const port = await freePort();
    const down = await runCli(['health', '--endpoint', `http://127.0.0.1:${port}`, '--json']);
    expect(down.code).toBe(1);
    expect(down.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    const bad = await runCli(['health', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout must be a whole number of milliseconds');
  });
});
