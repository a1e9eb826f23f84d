import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@vitrine/testing';
import { describe, expect, it } from 'vitest';
import { copyCluster } from '../src/index.js';

/** Every file and folder below `root` with its content (files) and mode. */
async function tree(root: string): Promise<Record<string, string>> {
  const shown: Record<string, string> = {};
  for (const path of (await readdir(root, { recursive: true })).sort()) {
    const info = await stat(join(root, path));
    const mode = (info.mode & 0o777).toString(8);
    shown[path] = info.isDirectory()
      ? `dir ${mode}`
      : `${mode} ${await readFile(join(root, path), 'utf8')}`;
  }
  return shown;
}

describe('copyCluster', () => {
  it('copies nested folders with their modes and every file byte for byte', async () => {
    const dir = await tempDir('vitrine-copy-');
    try {
      const from = join(dir.path, 'from');
      await mkdir(join(from, 'base', '1'), { recursive: true, mode: 0o700 });
      await mkdir(join(from, 'pg_wal', 'archive_status'), { recursive: true, mode: 0o750 });
      await writeFile(join(from, 'PG_VERSION'), '17\n', { mode: 0o600 });
      await writeFile(join(from, 'base', '1', '1259'), 'catalog', { mode: 0o600 });
      await writeFile(join(from, 'postgresql.conf'), 'x = 1', { mode: 0o644 });
      const to = join(dir.path, 'to');

      await copyCluster(from, to);

      expect(await tree(to)).toEqual(await tree(from));
      expect(Object.keys(await tree(to))).toHaveLength(7);
    } finally {
      await dir.cleanup();
    }
  });

  it('fills a folder that exists and is empty', async () => {
    const dir = await tempDir('vitrine-copy-');
    try {
      const from = join(dir.path, 'from');
      await mkdir(join(from, 'global'), { recursive: true });
      await writeFile(join(from, 'global', 'pg_control'), 'control');
      const to = join(dir.path, 'to');
      await mkdir(to);

      await copyCluster(from, to);

      expect(await readFile(join(to, 'global', 'pg_control'), 'utf8')).toBe('control');
    } finally {
      await dir.cleanup();
    }
  });

  it('refuses anything but files and folders, naming it', async () => {
    const dir = await tempDir('vitrine-copy-');
    try {
      const from = join(dir.path, 'from');
      await mkdir(from);
      await symlink('/etc/hostname', join(from, 'link'));
      await expect(copyCluster(from, join(dir.path, 'to'))).rejects.toThrow(
        `${join(from, 'link')} is neither a file nor a folder`,
      );
    } finally {
      await dir.cleanup();
    }
  });
});
