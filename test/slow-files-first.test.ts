import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLOW_FILES } from './slow-files-first.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the files the test run starts first', () => {
  it.each(SLOW_FILES)('%s is a test file of the repository', async (file) => {
    expect(file).toMatch(/\.test\.ts$/);
    await expect(access(`${ROOT}${file}`)).resolves.toBeUndefined();
  });

  it('are listed once each', () => {
    expect(new Set(SLOW_FILES).size).toBe(SLOW_FILES.length);
  });
});
