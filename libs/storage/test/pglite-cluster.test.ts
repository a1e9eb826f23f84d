import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@vitrine/testing';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createPGliteClusters,
  isPGliteCluster,
  openDatabase,
  PGLITE_SETTINGS,
  PGLITE_TEMPLATE_ENV,
} from '../src/index.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createPGliteClusters', () => {
  it.each(['running initdb', 'copying the template'])(
    'initialises every missing or empty folder by %s, leaving nothing else behind',
    async (how) => {
      // The test run's global setup names the template; without it initdb runs.
      const template = process.env[PGLITE_TEMPLATE_ENV] ?? '';
      if (how === 'copying the template') expect(template).not.toBe('');
      vi.stubEnv(PGLITE_TEMPLATE_ENV, how === 'running initdb' ? '' : template);
      const dir = await tempDir('vitrine-cluster-');
      try {
        const missing = join(dir.path, 'a', 'db');
        const empty = join(dir.path, 'b', 'db');
        await mkdir(empty, { recursive: true });
        await createPGliteClusters([missing, empty]);

        expect(await isPGliteCluster(missing)).toBe(true);
        expect(await isPGliteCluster(empty)).toBe(true);
        expect(await readdir(join(dir.path, 'a'))).toEqual(['db']);
        expect(await readdir(join(dir.path, 'b'))).toEqual(['db']);
        for (const dataDir of [missing, empty]) {
          const database = await openDatabase({ dataDir });
          const { rows } = await sql<{ n: number }>`select 1 as n`.execute(database.db);
          await database.close();
          expect(rows).toEqual([{ n: 1 }]);
        }
      } finally {
        await dir.cleanup();
      }
    },
  );

  it('leaves a folder that holds a cluster or other files as it is', async () => {
    const dir = await tempDir('vitrine-cluster-');
    try {
      const cluster = join(dir.path, 'cluster');
      const other = join(dir.path, 'other');
      await createPGliteClusters([cluster]);
      await writeFile(join(cluster, 'marker'), 'kept');
      const before = (await readdir(cluster)).sort();
      await mkdir(other);
      await writeFile(join(other, 'notes.txt'), 'not a database');

      await createPGliteClusters([cluster, other]);

      expect((await readdir(cluster)).sort()).toEqual(before);
      expect(await readFile(join(cluster, 'marker'), 'utf8')).toBe('kept');
      expect(await readdir(other)).toEqual(['notes.txt']);
      expect(await readdir(dir.path)).toEqual(expect.arrayContaining(['cluster', 'other']));
      expect(await readdir(dir.path)).toHaveLength(2);
    } finally {
      await dir.cleanup();
    }
  });
});

describe('createPGliteClusters with a template that is no cluster', () => {
  it('fails with failed_precondition and creates nothing', async () => {
    const dir = await tempDir('vitrine-cluster-');
    try {
      vi.stubEnv(PGLITE_TEMPLATE_ENV, dir.path);
      const target = join(dir.path, 'db');
      await expect(createPGliteClusters([target])).rejects.toMatchObject({
        code: 'failed_precondition',
        message: `${PGLITE_TEMPLATE_ENV} does not name an initialised PGlite cluster`,
      });
      expect(await readdir(dir.path)).toEqual([]);
    } finally {
      await dir.cleanup();
    }
  });
});

describe('embedded database settings', () => {
  // Databases in memory start the same way; their test would cost an initdb in process.
  it('apply to every PGlite database', async () => {
    const dir = await tempDir('vitrine-cluster-');
    try {
      const database = await openDatabase({ dataDir: join(dir.path, 'db') });
      const shown: Record<string, string> = {};
      for (const name of Object.keys(PGLITE_SETTINGS)) {
        const { rows } = await sql<Record<string, string>>`show ${sql.raw(name)}`.execute(
          database.db,
        );
        shown[name] = rows[0]?.[name] ?? '';
      }
      await database.close();
      expect(shown).toEqual(PGLITE_SETTINGS);
      expect(PGLITE_SETTINGS.shared_buffers).toBe('16MB');
    } finally {
      await dir.cleanup();
    }
  });

  it('take another buffer pool size when one is given, keeping the other settings', async () => {
    const dir = await tempDir('vitrine-cluster-');
    try {
      const database = await openDatabase({ dataDir: join(dir.path, 'db'), sharedBuffers: '8MB' });
      const shown = async (name: string) => {
        const { rows } = await sql<Record<string, string>>`show ${sql.raw(name)}`.execute(
          database.db,
        );
        return rows[0]?.[name];
      };
      const buffers = await shown('shared_buffers');
      const connections = await shown('max_connections');
      await database.close();
      expect(buffers).toBe('8MB');
      expect(connections).toBe(PGLITE_SETTINGS.max_connections);
    } finally {
      await dir.cleanup();
    }
  });
});
