import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index.js';

const CHILD = new URL('./logger-child.ts', import.meta.url).pathname;

async function runChild(level: string) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, VITRINE_LOG_LEVEL: level },
  });
}

describe('createLogger', () => {
  it('writes JSON lines to stderr, nothing to stdout, with secrets redacted', async () => {
    const { stdout, stderr } = await runChild('');
    expect(stdout).toBe('');
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      name: 'logger-child',
      msg: 'call',
      token: '[redacted]',
      request: { header: { authorization: '[redacted]' }, product: 'p' },
      peer: { privateKey: '[redacted]', key: '[redacted]', center: 'eu' },
      credential: '[redacted]',
    });
    expect(stderr).not.toMatch(/abc|xyz|k1|k2/);
  });

  it('takes its level from VITRINE_LOG_LEVEL', async () => {
    const debug = await runChild('debug');
    expect(debug.stderr).toContain('hidden at the default level');
    const silent = await runChild('error');
    expect(silent.stderr).toBe('');
  });

  it('refuses an unknown level instead of guessing', () => {
    expect(() => createLogger('x', { VITRINE_LOG_LEVEL: 'loud' })).toThrow(
      'VITRINE_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent; got "loud"',
    );
  });
});
