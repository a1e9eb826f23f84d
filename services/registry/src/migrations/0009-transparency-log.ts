import { type Kysely, sql } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import { logLeaf } from '../transparency/log-leaf.js';
import { appendLogLeaves } from '../transparency/log-tree-store.js';

/**
 * The transparency log of every origin a center holds events of: each complete subtree's
 * hash (RFC 9162), stored as events are stored so that roots, proofs and tiles are read,
 * never recomputed; the checkpoints signed over it (the center's own, and those it saw of
 * its peers'); and the evidence of any peer log found forked. Events stored before are appended
 * to their origins' logs here, a page at a time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('log_nodes')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('level', 'int2', (c) => c.notNull())
    .addColumn('idx', 'int8', (c) => c.notNull())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .addPrimaryKeyConstraint('log_nodes_pkey', ['origin', 'level', 'idx'])
    .execute();
  await db.schema
    .createTable('log_checkpoints')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('size', 'int8', (c) => c.notNull())
    .addColumn('root', 'bytea', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('log_checkpoints_pkey', ['origin', 'size'])
    .execute();
  await db.schema
    .createTable('log_evidence')
    .addColumn('id', 'int8', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('other_note', 'text')
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('resumed_at', 'timestamptz')
    .addColumn('resumed_by', 'text')
    .execute();
  await appendStoredEvents(db as Kysely<RegistryDatabase>);
}

async function appendStoredEvents(db: Kysely<RegistryDatabase>): Promise<void> {
  const heads = await db.selectFrom('log_heads').select(['origin', 'seq']).execute();
  for (const { origin, seq: head } of heads) {
    for (let from = 1n; from <= head; from += PAGE) {
      const rows = await db
        .selectFrom('events')
        .select(['header', 'signature'])
        .where('origin', '=', origin)
        .where('seq', '>=', from)
        .where('seq', '<', from + PAGE)
        .orderBy('seq')
        .execute();
      const leaves = rows.map((r) => logLeaf(r.header, r.signature));
      await appendLogLeaves(db, origin, Number(from) - 1, leaves);
    }
  }
}

const PAGE = 1024n;

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('log_evidence').execute();
  await db.schema.dropTable('log_checkpoints').execute();
  await db.schema.dropTable('log_nodes').execute();
}
