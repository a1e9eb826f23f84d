import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_GROUPS } from '../src/index.js';
import { CapturedStream, runCli } from './run-cli.js';

/** Every command path of the program, e.g. ['artifact', 'push']. */
function commandPaths(command: Command, prefix: readonly string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

const program = buildProgram(
  {
    stdout: new CapturedStream(),
    stderr: new CapturedStream(),
    isTTY: false,
    env: {},
    cwd: process.cwd(),
  },
  COMMAND_GROUPS,
);
const paths = commandPaths(program);

describe('--help', () => {
  it('lists the artifact and finding groups', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Usage: vitrine [options] [command]');
    expect(run.stdout).toMatch(/artifact\s+publish, download and list review artifacts/);
    expect(run.stdout).toMatch(/finding\s+record, triage, comment on and track findings/);
    expect(run.stdout).toContain('--json');
    expect(run.stdout).toMatch(
      /listens on\s+127\.0\.0\.1:7400 \(access\) and 7410-7431 \(centers\); --base-port N/,
    );
    expect(run.stdout).toMatch(/unique prefix of at least 4 hex digits/);
  });

  it('covers every command the brief names', () => {
    const names = paths.map((path) => path.join(' '));
    expect(names).toEqual(
      expect.arrayContaining([
        'artifact push',
        'artifact pull',
        'artifact ls',
        'artifact show',
        'finding create',
        'finding update',
        'finding comment',
        'finding ls',
        'finding show',
      ]),
    );
  });

  it.each(paths.filter((path) => path[0] !== 'help'))(
    'explains `vitrine %s` with an example',
    async (...path) => {
      const run = await runCli([...path, '--help']);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain(`Usage: vitrine ${path.join(' ')}`);
      expect(run.stdout).toMatch(/Examples?:\n {2}\$ vitrine /);
    },
  );

  it('documents where a read goes by default and that writes need --center', async () => {
    const ls = await runCli(['artifact', 'ls', '--help']);
    expect(ls.stdout).toContain('center to ask (default: the first center in federation.json)');
    const push = await runCli(['artifact', 'push', '--help']);
    expect(push.stdout).toContain(
      'center that records the change (required unless --endpoint is given)',
    );
    expect(push.stdout).toContain('(choices: "source", "update", "rules")');
  });

  it('prints the group help on stderr with exit 2 when the subcommand is missing', async () => {
    const run = await runCli(['finding']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: vitrine finding [options] [command]');
  });
});
