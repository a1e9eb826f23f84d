import { hashChildren, hashLeaf, isOdd } from './merkle-hash.js';
import { completeSubtrees, type HashReader, type NodeId } from './tree-prover.js';

/** A subtree hash a log stores as leaves are appended. */
export interface StoredHash extends NodeId {
  readonly hash: Uint8Array;
}

/**
 * The hashes to store when `leaves` are appended to a tree of `size` leaves: each leaf's
 * hash (level 0) and every subtree they complete. Only the tree's right edge — at most one
 * stored hash per level — is read, so appending a batch costs O(batch + log size).
 */
export async function hashesToStore(
  size: number,
  leaves: readonly Uint8Array[],
  reader: HashReader,
): Promise<StoredHash[]> {
  const edgeNodes = size === 0 ? [] : completeSubtrees(0, size);
  const edgeHashes = await reader.readHashes(edgeNodes);
  const known = new Map<string, Uint8Array>(
    edgeNodes.map((node, i) => [key(node), edgeHashes[i] as Uint8Array]),
  );
  const stored: StoredHash[] = [];
  for (let i = 0; i < leaves.length; i++) {
    let node: NodeId = { level: 0, index: size + i };
    let hash = hashLeaf(leaves[i] as Uint8Array);
    for (;;) {
      stored.push({ ...node, hash });
      known.set(key(node), hash);
      if (!isOdd(node.index)) break;
      const left = known.get(key({ level: node.level, index: node.index - 1 })) as Uint8Array;
      hash = hashChildren(left, hash);
      node = { level: node.level + 1, index: (node.index - 1) / 2 };
    }
  }
  return stored;
}

function key(node: NodeId): string {
  return `${node.level}/${node.index}`;
}
