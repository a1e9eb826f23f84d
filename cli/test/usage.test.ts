import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@vitrine/crypto';
import { type TempDir, tempDir } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfile } from '../src/profile.js';
import { federationFile, runCli } from './run-cli.js';

const closed = {
  asia: 'http://127.0.0.1:1',
  europe: 'http://127.0.0.1:1',
  us: 'http://127.0.0.1:1',
};

describe('usage errors exit 2 with one line naming the problem', () => {
  let dir: TempDir;
  let run: (args: readonly string[]) => ReturnType<typeof runCli>;

  beforeAll(async () => {
    dir = await tempDir('vitrine-cli-usage-');
    await mkdir(join(dir.path, '.vitrine'));
    await writeFile(
      join(dir.path, '.vitrine', 'federation.json'),
      JSON.stringify(federationFile(closed)),
    );
    await writeFile(join(dir.path, 'artifact.bin'), 'content');
    run = (args) => runCli(args, { cwd: dir.path });
  });
  afterAll(() => dir.cleanup());

  it.each([
    [
      [
        'artifact',
        'push',
        'artifact.bin',
        '--center',
        'europe',
        '--product',
        'p',
        '--version',
        '1',
      ],
      "vitrine: required option '--kind <kind>' not specified; see `vitrine artifact push --help` (USAGE)\n",
    ],
    [
      ['artifact', 'push', 'artifact.bin', '--kind', 'binary', '--product', 'p', '--version', '1'],
      "vitrine: option '--kind <kind>' argument 'binary' is invalid. Allowed choices are source, update, rules; see `vitrine artifact push --help` (USAGE)\n",
    ],
    [
      [
        'artifact',
        'push',
        'missing.bin',
        '--center',
        'europe',
        '--kind',
        'source',
        '--product',
        'p',
        '--version',
        '1',
      ],
      'vitrine: missing.bin: no such file (USAGE)\n',
    ],
    [
      ['artifact', 'push', 'artifact.bin', '--kind', 'source', '--product', 'p', '--version', '1'],
      'vitrine: --center is required to change anything; choose one of asia, europe, us (or pass --endpoint URL) (USAGE)\n',
    ],
    [
      [
        'artifact',
        'push',
        'artifact.bin',
        '--center',
        'europe',
        '--kind',
        'source',
        '--product',
        ' ',
        '--version',
        '1',
      ],
      'vitrine: --product must not be empty (USAGE)\n',
    ],
    [
      [
        'artifact',
        'push',
        'artifact.bin',
        '--center',
        'eu',
        '--kind',
        'source',
        '--product',
        'p',
        '--version',
        '1',
        '--residency',
        'EU',
      ],
      "vitrine: unknown center 'eu'; the federation has asia, europe, us (USAGE)\n",
    ],
    [
      [
        'artifact',
        'push',
        'artifact.bin',
        '--kind',
        'source',
        '--product',
        'p',
        '--version',
        '1',
        '--residency',
        'EU,,US',
      ],
      "vitrine: option '--residency <codes>' argument 'EU,,US' is invalid. expected jurisdiction codes separated by commas, e.g. EU,US (bad: ''); see `vitrine artifact push --help` (USAGE)\n",
    ],
    [
      ['artifact', 'pull', 'abc'],
      "vitrine: required option '-o, --output <file>' not specified; see `vitrine artifact pull --help` (USAGE)\n",
    ],
    [
      ['artifact', 'show'],
      "vitrine: missing required argument 'id'; see `vitrine artifact show --help` (USAGE)\n",
    ],
    [
      ['artifact', 'show', 'abcd', '--endpoint', 'localhost:7420'],
      "vitrine: --endpoint must use http or https, got 'localhost:7420' (USAGE)\n",
    ],
    [
      ['artifact', 'show', 'abcd', '--endpoint', 'not a url'],
      "vitrine: --endpoint must be a URL such as http://127.0.0.1:7420, got 'not a url' (USAGE)\n",
    ],
    [
      ['artifact', 'show', '9c1e…'],
      "vitrine: command-argument value '9c1e…' is invalid for argument 'id'. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see `vitrine artifact show --help` (USAGE)\n",
    ],
    [
      ['artifact', 'pull', '9c1', '-o', 'out.bin'],
      "vitrine: command-argument value '9c1' is invalid for argument 'id'. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see `vitrine artifact pull --help` (USAGE)\n",
    ],
    [
      ['artifact', 'pull', 'a'.repeat(65), '-o', 'out.bin'],
      `vitrine: command-argument value '${'a'.repeat(65)}' is invalid for argument 'id'. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see \`vitrine artifact pull --help\` (USAGE)\n`,
    ],
    [
      ['finding', 'create', '--center', 'us', '--artifact', 'abcd', '--artifact', 'ab-cd'],
      "vitrine: option '--artifact <id>' argument 'ab-cd' is invalid. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see `vitrine finding create --help` (USAGE)\n",
    ],
    [
      ['finding', 'update', 'europe-1', '--center', 'us', '--status', 'fixed', '--fix', 'v4.2.1'],
      "vitrine: option '--fix <id>' argument 'v4.2.1' is invalid. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see `vitrine finding update --help` (USAGE)\n",
    ],
    [
      ['finding', 'ls', '--artifact', 'router-os'],
      "vitrine: option '--artifact <id>' argument 'router-os' is invalid. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see `vitrine finding ls --help` (USAGE)\n",
    ],
    [
      [
        'artifact',
        'push',
        'artifact.bin',
        '--center',
        'europe',
        '--kind',
        'update',
        '--product',
        'p',
        '--version',
        '1',
        '--supersedes',
        '3fa4…c2',
      ],
      "vitrine: option '--supersedes <id>' argument '3fa4…c2' is invalid. an artifact id is its 64 hex digits, or a unique prefix of at least 4; see `vitrine artifact push --help` (USAGE)\n",
    ],
    [
      ['artifact', 'ls', '--colour'],
      "vitrine: unknown option '--colour'; see `vitrine artifact ls --help` (USAGE)\n",
    ],
    [
      ['artifact', 'list'],
      "vitrine: unknown command 'list' (Did you mean ls?); see `vitrine artifact --help` (USAGE)\n",
    ],
    [
      [
        'finding',
        'create',
        '--center',
        'us',
        '--artifact',
        'abcd',
        '--title',
        'T',
        '--severity',
        'severe',
      ],
      "vitrine: option '--severity <level>' argument 'severe' is invalid. Allowed choices are info, low, medium, high, critical; see `vitrine finding create --help` (USAGE)\n",
    ],
    [
      ['finding', 'create', '--center', 'us', '--title', 'T', '--severity', 'high'],
      "vitrine: required option '--artifact <id>' not specified; see `vitrine finding create --help` (USAGE)\n",
    ],
    [
      ['finding', 'update', 'europe-1', '--center', 'us'],
      'vitrine: nothing to change: pass at least one of --status, --severity, --assignee, --fix, --duplicate-of, --title, --description, --cvss, --severity-reason, --disclose-after (USAGE)\n',
    ],
    [
      ['finding', 'update', 'europe-1', '--center', 'us', '--status', 'done'],
      "vitrine: option '--status <status>' argument 'done' is invalid. Allowed choices are new, triaged, in_progress, fixed, verified, disclosed, rejected, duplicate; see `vitrine finding update --help` (USAGE)\n",
    ],
    [
      ['finding', 'comment', 'europe-1', '--text', 'hello'],
      'vitrine: --center is required to change anything; choose one of asia, europe, us (or pass --endpoint URL) (USAGE)\n',
    ],
  ])('vitrine %j', async (args, message) => {
    const result = await run(args);
    expect(result.stderr).toBe(message);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });

  it('prints the usage error as a JSON document on stdout with --json', async () => {
    const result = await run(['finding', 'ls', '--status', 'open', '--json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('');
    expect(result.json()).toEqual({
      error: {
        code: 'USAGE',
        message:
          "option '--status <status>' argument 'open' is invalid. Allowed choices are new, triaged, in_progress, fixed, verified, disclosed, rejected, duplicate; see `vitrine finding ls --help`",
      },
    });
  });

  it('refuses --json with -o - because stdout carries the artifact', async () => {
    const result = await run(['artifact', 'pull', 'abcd', '-o', '-', '--json']);
    expect(result.code).toBe(2);
    expect(result.json()).toEqual({
      error: {
        code: 'USAGE',
        message: '--json cannot be combined with -o - (stdout carries the artifact)',
      },
    });
  });

  it('says how to get a federation file when there is none', async () => {
    const result = await runCli(['artifact', 'ls'], { cwd: join(dir.path, 'elsewhere') });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `vitrine: no federation file at ${join(dir.path, 'elsewhere', '.vitrine', 'federation.json')} — point at the data folder of a running federation with --data DIR or VITRINE_HOME=DIR, start one here with \`vitrine dev\` (\`npm start\` in the repository), or pass --endpoint URL (CONFIG)\n`,
    );
  });

  it('names the folder VITRINE_HOME points at when it holds no federation file', async () => {
    const home = join(dir.path, 'home-from-env');
    const result = await runCli(['finding', 'ls', '--json'], {
      cwd: dir.path,
      env: { VITRINE_HOME: home },
    });
    expect(result.code).toBe(2);
    expect(result.json()).toEqual({
      error: {
        code: 'CONFIG',
        message: expect.stringMatching(
          new RegExp(
            `^no federation file at ${join(home, 'federation.json')} — .*--data DIR or VITRINE_HOME=DIR`,
          ),
        ),
      },
    });
  });

  it('refuses to overwrite an existing output file without --force, before downloading', async () => {
    await writeFile(join(dir.path, 'kept.tar'), 'earlier download');
    const result = await run(['artifact', 'pull', 'abcd', '-o', 'kept.tar']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `vitrine: ${join(dir.path, 'kept.tar')} already exists; pass --force to replace it (USAGE)\n`,
    );
    const json = await run(['artifact', 'pull', 'abcd', '-o', 'kept.tar', '--json']);
    expect(json.code).toBe(2);
    expect(json.json()).toEqual({
      error: {
        code: 'USAGE',
        message: `${join(dir.path, 'kept.tar')} already exists; pass --force to replace it`,
      },
    });
    expect(await readFile(join(dir.path, 'kept.tar'), 'utf8')).toBe('earlier download');
    expect((await readdir(dir.path)).filter((name) => name.includes('kept.tar.'))).toEqual([]);
  });

  it('asks for --center when a signed call goes to an --endpoint: a proof names its center', async () => {
    await createProfile(
      join(dir.path, '.vitrine'),
      'reviewer',
      'partner:p-1',
      await generateSigningKeyPair(),
    );
    const url = 'http://127.0.0.1:1';
    const args = ['artifact', 'show', 'abcd', '--endpoint', url, '--profile', 'reviewer'];
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `vitrine: --endpoint ${url} needs --center <id> when calls are signed: each call's proof names the center it is for (USAGE)\n`,
    );
    // With --center the call goes ahead (and stops at the profile's missing credential).
    expect((await run([...args, '--center', 'europe'])).stderr).toMatch(/has no credential yet/);
  });
});
