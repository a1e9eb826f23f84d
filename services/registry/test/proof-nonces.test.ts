import { sha256 } from '@vitrine/crypto';
import { createLogger } from '@vitrine/rpc';
import { type Database, migrateToLatest, openDatabase } from '@vitrine/storage';
import { type TestDatabase, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProofNonces } from '../src/access/proof-nonces.js';
import { registryMigrations } from '../src/migrations/index.js';
import type { RegistryDatabase } from '../src/schema.js';

const key = (n: number) => sha256(new Uint8Array([n]));
const T = 1_700_000_000_000;

describe.each(testBackends())('proof nonces in the center database, on $name', (backend) => {
  let target: TestDatabase;
  let database: Database<RegistryDatabase>;
  const logger = createLogger('test', { VITRINE_LOG_LEVEL: 'silent' });

  beforeAll(async () => {
    target = await backend.open();
    database = await openDatabase<RegistryDatabase>(target);
    await migrateToLatest(database.db, registryMigrations);
  });
  afterAll(async () => {
    await database?.close();
    await target?.cleanup();
  });

  it('admits a nonce once until it expires, across guards sharing the database', async () => {
    const a = new ProofNonces(database.db, logger);
    const b = new ProofNonces(database.db, logger);
    expect(await a.admit(key(1), T + 60_000, T)).toBe(true);
    expect(await b.admit(key(1), T + 60_000, T + 1)).toBe(false);
    expect(await a.admit(key(1), T + 60_000, T + 59_999)).toBe(false);
    // Once expired, the row no longer counts (a proof that old is refused as stale anyway).
    expect(await b.admit(key(1), T + 120_000, T + 60_000)).toBe(true);
    expect(await a.admit(key(1), T + 120_000, T + 60_001)).toBe(false);
    // Background prunes run as of each call's (made-up) time: let them finish here.
    await Promise.all([a.settled(), b.settled()]);
  });

  it('prunes expired nonces in the background', async () => {
    const guard = new ProofNonces(database.db, logger);
    const held = async () =>
      (await database.db.selectFrom('proof_nonces').select('key').execute())
        .map((r) => Buffer.from(r.key).toString('hex'))
        .filter((k) => [key(2), key(3), key(4)].some((n) => Buffer.from(n).toString('hex') === k))
        .sort();
    const hex = (...keys: Uint8Array[]) => keys.map((k) => Buffer.from(k).toString('hex')).sort();
    await guard.admit(key(2), T + 1_000, T);
    await guard.admit(key(3), T + 500_000, T);
    expect(await held()).toEqual(hex(key(2), key(3)));
    // The next call past the prune interval prunes as of its own time: key 2 goes.
    await guard.admit(key(4), T + 400_000, T + 300_000);
    await guard.settled();
    expect(await held()).toEqual(hex(key(3), key(4)));
  });
});
