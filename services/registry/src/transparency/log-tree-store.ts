import { type HashReader, hashesToStore, type NodeId } from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

/**
 * The stored hashes of one origin's transparency log, read through `db` (a transaction
 * while appending). Every hash asked for must be stored: a missing one means the log was
 * damaged, and reading on would prove something false.
 */
export function logHashReader(db: Kysely<RegistryDatabase>, origin: string): HashReader {
  return {
    async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
      if (nodes.length === 0) return [];
      const rows = await db
        .selectFrom('log_nodes')
        .select(['level', 'idx', 'hash'])
        .where('origin', '=', origin)
        .where((eb) =>
          eb(
            eb.refTuple('level', 'idx'),
            'in',
            nodes.map((n) => eb.tuple(n.level, BigInt(n.index))),
          ),
        )
        .execute();
      const byNode = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
      return nodes.map((n) => {
        const hash = byNode.get(`${n.level}/${n.index}`);
        if (hash === undefined) {
          throw new Error(`transparency log of ${origin} lacks subtree ${n.level}/${n.index}`);
        }
        return hash;
      });
    },
  };
}

/**
 * Appends leaves to `origin`'s log, whose size is `size` before them, inside `tx`: stores
 * each leaf's hash and every subtree they complete, reading only the tree's right edge.
 */
export async function appendLogLeaves(
  tx: Kysely<RegistryDatabase>,
  origin: string,
  size: number,
  leaves: readonly Uint8Array[],
): Promise<void> {
  if (leaves.length === 0) return;
  const stored = await hashesToStore(size, leaves, logHashReader(tx, origin));
  await tx
    .insertInto('log_nodes')
    .values(stored.map((n) => ({ origin, level: n.level, idx: BigInt(n.index), hash: n.hash })))
    .execute();
}
