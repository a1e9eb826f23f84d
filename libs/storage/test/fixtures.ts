import type { TestBackend, TestDatabase } from '@vitrine/testing';
import { type Database, openDatabase } from '../src/index.js';

/** An open database on a throw-away backend, and the function that closes and deletes it. */
export interface OpenedDatabase<DB> {
  readonly database: Database<DB>;
  readonly target: TestDatabase;
  dispose(): Promise<void>;
}

/** Opens a fresh database on `backend`; dispose closes it before deleting its storage. */
export async function openOn<DB>(backend: TestBackend): Promise<OpenedDatabase<DB>> {
  const target = await backend.open();
  const database = await openDatabase<DB>(target);
  return {
    database,
    target,
    dispose: async () => {
      await database.close();
      await target.cleanup();
    },
  };
}
