import { type HashReader, hashesToStore, type NodeId, type StoredHash } from '../src/index.js';

/**
 * A log's stored hashes kept in a Map, for tests of the tree algorithms: it appends
 * through `hashesToStore` exactly as a database-backed log does, and refuses to read a
 * hash it never stored, so a proof that needs a recomputed subtree fails loudly.
 */
export class MemoryTree implements HashReader {
  readonly #hashes = new Map<string, Uint8Array>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends leaves (their data, not their hashes); returns what was stored. */
  async append(leaves: readonly Uint8Array[]): Promise<StoredHash[]> {
    const stored = await hashesToStore(this.#size, leaves, this);
    for (const node of stored) this.#hashes.set(`${node.level}/${node.index}`, node.hash);
    this.#size += leaves.length;
    return stored;
  }

  async readHashes(nodes: readonly NodeId[]): Promise<Uint8Array[]> {
    return nodes.map((node) => {
      const hash = this.#hashes.get(`${node.level}/${node.index}`);
      if (hash === undefined) throw new Error(`subtree ${node.level}/${node.index} not stored`);
      return hash;
    });
  }
}
