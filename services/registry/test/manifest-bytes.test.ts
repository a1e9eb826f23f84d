import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ArtifactKind, ChunkRefSchema, ManifestSchema } from '@vitrine/proto/artifact';
import { describe, expect, it } from 'vitest';
import { ChunkList } from '../src/chunk-list.js';
import { chunkRefsOf, encodeManifest, readManifestHead } from '../src/manifest-bytes.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const refs = (sizes: number[], digestBytes = 32) =>
  sizes.map((size) => create(ChunkRefSchema, { digest: bytes(digestBytes), size }));

describe('a manifest’s canonical bytes', () => {
  it.each([
    [
      'every field set',
      {
        chunks: refs([65_536, 1, 262_144]),
        residency: ['EU', 'US'],
        supersedes: 'a1b2',
        residencyWidened: true,
      },
    ],
    ['no chunks (empty content)', { chunks: [], residency: ['EU'] }],
    ['a chunk of size 0 and no residency', { chunks: refs([0, 70_000]) }],
    ['references larger than the buffer was sized for', { chunks: refs([2 ** 31, 5], 300) }],
    ['thousands of chunks', { chunks: refs(Array.from({ length: 3000 }, (_, i) => 1000 + i)) }],
  ])('are exactly what toBinary gives: %s', (_case, fields) => {
    const manifest = create(ManifestSchema, {
      kind: ArtifactKind.UPDATE,
      product: 'agent',
      version: '7.1',
      contentDigest: bytes(32),
      size: 123_456_789n,
      ...fields,
    });
    const encoded = encodeManifest(manifest);
    expect(Buffer.compare(encoded, toBinary(ManifestSchema, manifest))).toBe(0);
    expect(fromBinary(ManifestSchema, encoded)).toEqual(manifest);
  });

  it('are the same from an upload’s chunk list, and read back without decoding the list at once', () => {
    const chunks = refs(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 262_144));
    const manifest = create(ManifestSchema, {
      kind: ArtifactKind.SOURCE,
      product: 'router-os',
      version: '4.2',
      contentDigest: bytes(32),
      size: 9_999n,
      chunks,
      residency: ['EU'],
    });
    const list = new ChunkList();
    for (const { digest, size } of chunks) list.push(digest, size);
    expect(list.length).toBe(3000);
    const encoded = encodeManifest({ ...manifest, chunks: [] }, list);
    expect(Buffer.compare(encoded, toBinary(ManifestSchema, manifest))).toBe(0);

    const { manifest: head, chunkCount } = readManifestHead(encoded);
    expect(chunkCount).toBe(3000);
    expect(head).toEqual({ ...manifest, chunks: [] });
    expect([...chunkRefsOf(encoded)]).toEqual(chunks);
  });

  it('refuses a chunk list digest that is not 32 bytes', () => {
    expect(() => new ChunkList().push(bytes(31), 1)).toThrow(RangeError);
  });
});
