import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { embeddedDatabaseConfig, parseConfig } from '../src/index.js';

const schema = z.object({ embeddedDatabase: embeddedDatabaseConfig }).strict();

describe('embeddedDatabase config', () => {
  it('is empty when absent, so the storage defaults apply', () => {
    expect(parseConfig(schema, {}, 'registry').embeddedDatabase).toEqual({});
  });

  it('takes a buffer pool size in MB or GB', () => {
    const config = parseConfig(schema, { embeddedDatabase: { sharedBuffers: '8MB' } }, 'access');
    expect(config.embeddedDatabase.sharedBuffers).toBe('8MB');
  });

  it.each(['8', '0MB', '512kB', '8 MB', '-8MB'])('refuses sharedBuffers %j by path', (size) => {
    expect(() =>
      parseConfig(schema, { embeddedDatabase: { sharedBuffers: size } }, 'registry'),
    ).toThrowError(
      expect.objectContaining({
        code: 'invalid_argument',
        violations: [
          {
            field: 'embeddedDatabase.sharedBuffers',
            message: 'must be a size in MB or GB, such as 8MB',
          },
        ],
      }),
    );
  });

  it('refuses settings it does not know', () => {
    expect(() =>
      parseConfig(schema, { embeddedDatabase: { workMem: '4MB' } }, 'registry'),
    ).toThrowError(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
