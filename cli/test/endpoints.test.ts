import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, resolveTarget, vitrineHome } from '../src/index.js';
import { federationFile } from './run-cli.js';

const registries = {
  asia: 'http://127.0.0.1:7410',
  europe: 'http://127.0.0.1:7420',
  us: 'http://127.0.0.1:7430',
};

/** The CliError a promise rejected with (fails the test when it resolved). */
async function failure(promise: Promise<unknown>): Promise<CliError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('expected a CliError');
}

describe('endpoint resolution', () => {
  let dir: TempDir;
  let home: string;

  beforeAll(async () => {
    dir = await tempDir('vitrine-cli-endpoints-');
    home = join(dir.path, '.vitrine');
    await mkdir(home);
    await writeFile(join(home, 'federation.json'), JSON.stringify(federationFile(registries)));
  });
  afterAll(() => dir.cleanup());

  it('looks --center up in ./.vitrine/federation.json', async () => {
    const target = await resolveTarget({ center: 'europe' }, 'write', {}, dir.path);
    expect(target).toEqual({ url: 'http://127.0.0.1:7420', center: 'europe', label: 'europe' });
  });

  it('sends reads without --center to the first center listed', async () => {
    const target = await resolveTarget({}, 'read', {}, dir.path);
    expect(target).toEqual({ url: 'http://127.0.0.1:7410', center: 'asia', label: 'asia' });
  });

  it('lets --endpoint win over --center and the federation file', async () => {
    const elsewhere = join(dir.path, 'no-such-home');
    const target = await resolveTarget(
      { endpoint: 'http://10.0.0.5:9000/', center: 'us', data: elsewhere },
      'write',
      {},
      dir.path,
    );
    expect(target).toEqual({ url: 'http://10.0.0.5:9000', center: 'us', label: 'us' });
    const bare = await resolveTarget(
      { endpoint: 'https://registry.example' },
      'write',
      {},
      dir.path,
    );
    expect(bare).toEqual({
      url: 'https://registry.example',
      center: undefined,
      label: 'https://registry.example',
    });
  });

  it('finds the home in --data, then $VITRINE_HOME, then ./.vitrine', () => {
    const env = { VITRINE_HOME: '/srv/vitrine' };
    expect(vitrineHome({ data: 'state' }, env, '/work')).toBe('/work/state');
    expect(vitrineHome({ data: '/abs' }, env, '/work')).toBe('/abs');
    expect(vitrineHome({}, env, '/work')).toBe('/srv/vitrine');
    expect(vitrineHome({}, { VITRINE_HOME: '' }, '/work')).toBe('/work/.vitrine');
    expect(vitrineHome({}, {}, '/work')).toBe('/work/.vitrine');
  });

  it('reads the federation file from $VITRINE_HOME', async () => {
    const target = await resolveTarget({ center: 'us' }, 'read', { VITRINE_HOME: home }, '/');
    expect(target.url).toBe('http://127.0.0.1:7430');
  });

  it('requires --center for writes, naming the centers', async () => {
    const err = await failure(resolveTarget({}, 'write', {}, dir.path));
    expect(err.code).toBe('USAGE');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      '--center is required to change anything; choose one of asia, europe, us (or pass --endpoint URL)',
    );
  });

  it('refuses an unknown center', async () => {
    const err = await failure(resolveTarget({ center: 'mars' }, 'read', {}, dir.path));
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe("unknown center 'mars'; the federation has asia, europe, us");
  });

  it('says how to point at a federation file (--data, VITRINE_HOME), start one or pass --endpoint when there is none', async () => {
    const err = await failure(resolveTarget({ data: 'empty' }, 'read', {}, dir.path));
    expect(err.code).toBe('CONFIG');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      `no federation file at ${join(dir.path, 'empty', 'federation.json')} — point at the data folder of a running federation with --data DIR or VITRINE_HOME=DIR, start one here with \`vitrine dev\` (\`npm start\` in the repository), or pass --endpoint URL`,
    );
  });

  it('reports a file that is not JSON', async () => {
    const bad = join(dir.path, 'not-json');
    await mkdir(bad);
    await writeFile(join(bad, 'federation.json'), '{ "version": 1,');
    const err = await failure(resolveTarget({ data: bad }, 'read', {}, dir.path));
    expect(err.code).toBe('CONFIG');
    expect(err.message).toMatch(new RegExp(`^${join(bad, 'federation.json')} is not valid JSON: `));
  });

  it('names every bad field of a malformed federation file', async () => {
    const bad = join(dir.path, 'malformed');
    await mkdir(bad);
    const file = federationFile(registries);
    const broken = {
      ...file,
      version: 2,
      centers: [{ ...file.centers[0], registry: 'not a url' }, { id: 'x' }],
    };
    await writeFile(join(bad, 'federation.json'), JSON.stringify(broken));
    const err = await failure(resolveTarget({ data: bad }, 'read', {}, dir.path));
    expect(err.code).toBe('CONFIG');
    expect(err.message).toBe(
      `${join(bad, 'federation.json')} is not a valid federation file: ` +
        'version: Invalid input: expected 1; centers.0.registry: Invalid URL; ' +
        'centers.1.jurisdiction: Invalid input: expected string, received undefined; ' +
        'centers.1.registry: Invalid input: expected string, received undefined; ' +
        'centers.1.sync: Invalid input: expected string, received undefined',
    );
  });
});
