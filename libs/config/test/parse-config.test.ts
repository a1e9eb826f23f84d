import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@vitrine/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, readConfigFile } from '../src/index.js';

const schema = z.object({ port: z.number().int(), center: z.object({ id: z.string().min(2) }) });

describe('service config', () => {
  it('returns a frozen value for a good config', () => {
    const config = parseConfig(schema, { port: 1, center: { id: 'eu' } }, 'test');
    expect(config.center.id).toBe('eu');
    expect(Object.isFrozen(config.center)).toBe(true);
  });

  it('names every bad setting by path', () => {
    expect(() => parseConfig(schema, { port: 'x', center: { id: '' } }, 'registry')).toThrowError(
      expect.objectContaining({
        code: 'invalid_argument',
        message: expect.stringMatching(/^invalid registry config: port: .*; center\.id: /),
        violations: [
          { field: 'port', message: expect.any(String) },
          { field: 'center.id', message: expect.any(String) },
        ],
      }),
    );
  });

  it('refuses unreadable and non-JSON files with the path', async () => {
    const dir = await tempDir('vitrine-config-');
    try {
      const path = join(dir.path, 'bad.json');
      await writeFile(path, '{ nope');
      await expect(readConfigFile(schema, path, 'sync')).rejects.toMatchObject({
        code: 'invalid_argument',
        message: `sync config ${path} is not valid JSON`,
      });
      await expect(
        readConfigFile(schema, join(dir.path, 'none.json'), 'sync'),
      ).rejects.toMatchObject({ code: 'invalid_argument' });
    } finally {
      await dir.cleanup();
    }
  });
});
