import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ChunkPlaintextSchema, ChunksPlaintextSchema } from '@vitrine/proto/sync';
import { describe, expect, it } from 'vitest';
import { chunksPlaintextParts } from '../src/chunk-frame.js';

const chunk = (init: Parameters<typeof create<typeof ChunkPlaintextSchema>>[1]) =>
  create(ChunkPlaintextSchema, { digest: randomBytes(32), ...init });

describe('a chunks frame encoded in parts', () => {
  it.each([
    ['no chunks', []],
    ['one chunk of 64 KiB', [chunk({ data: randomBytes(65_536) })]],
    ['an empty chunk', [chunk({ data: new Uint8Array() })]],
    ['a missing one', [chunk({ missing: true })]],
    [
      'a patch between whole chunks',
      [
        chunk({ data: randomBytes(300) }),
        chunk({ data: randomBytes(5000), patch: true, prefix: 70_000, suffix: 1 }),
        chunk({ data: randomBytes(70_000) }),
      ],
    ],
  ])('decodes, joined, to the message: %s', (_case, chunks) => {
    const message = create(ChunksPlaintextSchema, { chunks });
    const joined = Buffer.concat(chunksPlaintextParts(chunks));
    expect(fromBinary(ChunksPlaintextSchema, joined)).toEqual(message);
    expect(joined).toHaveLength(toBinary(ChunksPlaintextSchema, message).length);
  });

  it('leaves each chunk’s bytes where they lie', () => {
    const data = randomBytes(1000);
    const parts = chunksPlaintextParts([chunk({ data })]);
    expect(parts.some((part) => part === data)).toBe(true);
  });
});
