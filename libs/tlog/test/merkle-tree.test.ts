import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  LogError,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';
import { MemoryTree } from './memory-tree.js';

// RFC 6962 reference tree and proofs from transparency-dev/merkle (vectors/SOURCE.md).
const vectors = new URL('./vectors/', import.meta.url);
const json = (file: string) => JSON.parse(readFileSync(new URL(file, vectors), 'utf8'));
const reference = json('rfc6962-reference-tree.json') as {
  leafInputs: string[];
  nodeHashesByLevel: string[][];
  rootHashesBySize: Record<string, string>;
  inclusionProofs: {
    leafIndex: number;
    treeSize: number;
    root: string;
    leafHash: string;
    proof: string[];
  }[];
  consistencyProofs: {
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[];
  }[];
  hasherVectors: { leafInput?: string; left?: string; right?: string; expected: string }[];
};
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = reference.leafInputs.map(hex);

async function referenceTree(size: number): Promise<MemoryTree> {
  const tree = new MemoryTree();
  await tree.append(leaves.slice(0, size));
  return tree;
}

describe('RFC 6962 hashing', () => {
  it('matches the reference hasher vectors', () => {
    expect(toHex(EMPTY_ROOT)).toBe(reference.hasherVectors[0]?.expected);
    expect(toHex(hashLeaf(new Uint8Array(0)))).toBe(reference.hasherVectors[1]?.expected);
    expect(toHex(hashLeaf(Buffer.from('L123456')))).toBe(reference.hasherVectors[2]?.expected);
    const node = hashChildren(Buffer.from('N123'), Buffer.from('N456'));
    expect(toHex(node)).toBe(reference.hasherVectors[3]?.expected);
  });

  it('stores every reference node hash and computes every reference root', async () => {
    for (let size = 0; size <= 8; size++) {
      const tree = await referenceTree(size);
      expect(toHex(await treeRoot(size, tree))).toBe(reference.rootHashesBySize[String(size)]);
    }
    const tree = await referenceTree(8);
    for (const [level, hashes] of reference.nodeHashesByLevel.entries()) {
      const nodes = hashes.map((_, index) => ({ level, index }));
      expect((await tree.readHashes(nodes)).map(toHex)).toEqual(hashes);
    }
  });

  it('stores the same hashes whether leaves come one by one or in batches', async () => {
    const data = Array.from({ length: 300 }, (_, i) => Buffer.from(`leaf ${i}`));
    const single = new MemoryTree();
    for (const leaf of data) await single.append([leaf]);
    const batched = new MemoryTree();
    for (let i = 0; i < data.length; i += 37) await batched.append(data.slice(i, i + 37));
    for (const size of [1, 2, 3, 5, 8, 100, 255, 256, 257, 300]) {
      expect(toHex(await treeRoot(size, batched))).toBe(toHex(await treeRoot(size, single)));
    }
  });
});

describe('proofs from stored hashes', () => {
  it('produces the reference inclusion proofs', async () => {
    for (const p of reference.inclusionProofs) {
      const tree = await referenceTree(p.treeSize);
      const proof = await inclusionProof(p.leafIndex, p.treeSize, tree);
      expect(proof.map(toHex)).toEqual(p.proof);
      verifyInclusion(hex(p.leafHash), p.leafIndex, p.treeSize, proof, hex(p.root));
    }
  });

  it('produces the reference consistency proofs', async () => {
    for (const p of reference.consistencyProofs) {
      const tree = await referenceTree(p.size2);
      const proof = await consistencyProof(p.size1, p.size2, tree);
      expect(proof.map(toHex)).toEqual(p.proof);
      verifyConsistency(p.size1, p.size2, proof, hex(p.root1), hex(p.root2));
    }
  });

  it('proves every leaf and every pair of sizes of a 70-leaf tree, as the verifier checks', async () => {
    const tree = new MemoryTree();
    const data = Array.from({ length: 70 }, (_, i) => Buffer.from(`entry ${i}`));
    await tree.append(data);
    for (let size = 1; size <= 70; size++) {
      const root = await treeRoot(size, tree);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(index, size, tree);
        verifyInclusion(hashLeaf(data[index] as Buffer), index, size, proof, root);
      }
      for (let old = 1; old <= size; old++) {
        const proof = await consistencyProof(old, size, tree);
        verifyConsistency(old, size, proof, await treeRoot(old, tree), root);
      }
    }
  });

  it('refuses to prove a leaf beyond the tree with invalid_argument', async () => {
    const tree = await referenceTree(8);
    await expect(inclusionProof(8, 8, tree)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(consistencyProof(0, 8, tree)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(consistencyProof(5, 4, tree)).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('transparency-dev/merkle probes', () => {
  type Inclusion = {
    file: string;
    leafIdx: number;
    treeSize: number;
    root: string | null;
    leafHash: string | null;
    proof: string[] | null;
    wantErr: boolean;
  };
  type Consistency = {
    file: string;
    size1: number;
    size2: number;
    root1: string | null;
    root2: string | null;
    proof: string[] | null;
    wantErr: boolean;
  };
  const inclusion = json('inclusion-probes.json').probes as Inclusion[];
  const consistency = json('consistency-probes.json').probes as Consistency[];
  const bytes = (s: string | null) => b64(s ?? '');

  it('has all the published probes', () => {
    expect(inclusion).toHaveLength(98);
    expect(consistency).toHaveLength(98);
  });

  it.each(inclusion)('inclusion $file', (p) => {
    const verify = () =>
      verifyInclusion(
        bytes(p.leafHash),
        p.leafIdx,
        p.treeSize,
        (p.proof ?? []).map(b64),
        bytes(p.root),
      );
    if (p.wantErr) expect(verify).toThrow(LogError);
    else expect(verify).not.toThrow();
  });

  it.each(consistency)('consistency $file', (p) => {
    const verify = () =>
      verifyConsistency(p.size1, p.size2, (p.proof ?? []).map(b64), bytes(p.root1), bytes(p.root2));
    if (p.wantErr) expect(verify).toThrow(LogError);
    else expect(verify).not.toThrow();
  });
});

describe('a real Certificate Transparency log (Argon 2020)', () => {
  const sth = json('ct-argon2020/sth.json') as { tree_size: number; sha256_root_hash: string };
  const entry = (json('ct-argon2020/entries.json') as { entries: { leaf_input: string }[] })
    .entries[0];
  const audit = json('ct-argon2020/proof.json') as { leaf_index: number; audit_path: string[] };
  const consistency = (json('ct-argon2020/consistency.json') as { consistency: string[] })
    .consistency;
  const oldRoot = b64('AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=');

  it('verifies entry 10000 in a tree of 961,984,013 (sizes past 2^31)', () => {
    const leaf = hashLeaf(b64(entry?.leaf_input ?? ''));
    verifyInclusion(
      leaf,
      audit.leaf_index,
      sth.tree_size,
      audit.audit_path.map(b64),
      b64(sth.sha256_root_hash),
    );
    expect(() =>
      verifyInclusion(
        leaf,
        audit.leaf_index + 1,
        sth.tree_size,
        audit.audit_path.map(b64),
        b64(sth.sha256_root_hash),
      ),
    ).toThrow(LogError);
  });

  it('verifies consistency from 3,654,490', () => {
    verifyConsistency(
      3654490,
      sth.tree_size,
      consistency.map(b64),
      oldRoot,
      b64(sth.sha256_root_hash),
    );
    expect(() =>
      verifyConsistency(
        3654491,
        sth.tree_size,
        consistency.map(b64),
        oldRoot,
        b64(sth.sha256_root_hash),
      ),
    ).toThrow(LogError);
  });
});
