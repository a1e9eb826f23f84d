import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ArtifactKind, ChunkRefSchema, ManifestSchema } from '@vitrine/proto/artifact';
import { describe, expect, it } from 'vitest';
import { encodeManifest } from '../src/manifest-bytes.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const refs = (sizes: number[], digestBytes = 32) =>
  sizes.map((size) => create(ChunkRefSchema, { digest: bytes(digestBytes), size }));

describe('a manifest’s canonical bytes', () => {
  it.each([
    [
      'every field set',
      { chunks: refs([65_536, 1, 262_144]), residency: ['EU', 'US'], supersedes: 'a1b2' },
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
});
