import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  type ChunkRef,
  ChunkRefSchema,
  type Manifest,
  ManifestSchema,
} from '@vitrine/proto/artifact';
import type { ChunkEntries } from './chunk-list.js';

/**
 * Field number of Manifest.chunks: after it come residency (7), supersedes (8) and
 * residency_widened (9).
 */
const CHUNKS_FIELD = 6;
/** Bytes one chunk reference takes: tag and length, a 32-byte digest, a size under 2^21. */
const CHUNK_REF_BYTES = 40;

/**
 * The canonical binary encoding of a manifest: byte for byte what
 * `toBinary(ManifestSchema, manifest)` gives, fields in number order. `toBinary` encodes
 * every ChunkRef into a buffer of its own and holds them all until it joins them at the end
 * (for the 65,536 chunks of a 4 GiB artifact, about 35 MB of heap at once); here each
 * reference is written into the output as it is encoded, and only the output stays. The
 * chunk references are `chunks` (an upload's ChunkList) where given, else the manifest's.
 */
export function encodeManifest(
  manifest: Manifest,
  chunks: ChunkEntries = manifest.chunks,
): Uint8Array {
  const { residency, supersedes, residencyWidened } = manifest;
  const head = toBinary(ManifestSchema, {
    ...manifest,
    chunks: [],
    residency: [],
    supersedes: '',
    residencyWidened: false,
  });
  const tail = toBinary(
    ManifestSchema,
    create(ManifestSchema, { residency, supersedes, residencyWidened }),
  );
  const out = new GrowingBytes(head.length + tail.length + chunks.length * CHUNK_REF_BYTES);
  out.append(head);
  for (const { digest, size } of chunks) {
    const ref = toBinary(ChunkRefSchema, create(ChunkRefSchema, { digest, size }));
    out.append(new BinaryWriter().tag(CHUNKS_FIELD, WireType.LengthDelimited).bytes(ref).finish());
  }
  out.append(tail);
  return out.bytes();
}

/** A manifest read from its bytes but for its chunk references, and how many there are. */
export interface ManifestHead {
  /** Every field decoded but `chunks`, which is empty: `chunkRefsOf` yields them. */
  readonly manifest: Manifest;
  readonly chunkCount: number;
}

/**
 * Reads a manifest's bytes without decoding its chunk references: `fromBinary` of every
 * other field, and the references counted. Decoded at once, the 65,536 references of a 4
 * GiB artifact held about 16 MiB of heap, on top of the list the upload had just built.
 * Throws on bytes that do not parse (as `fromBinary` does); a reference that does not
 * decode surfaces from `chunkRefsOf`.
 */
export function readManifestHead(bytes: Uint8Array): ManifestHead {
  const reader = new BinaryReader(bytes);
  const others = new GrowingBytes(Math.min(bytes.length, 1024));
  let chunkCount = 0;
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [field, wireType] = reader.tag();
    reader.skip(wireType, field);
    if (field !== CHUNKS_FIELD) {
      others.append(bytes.subarray(start, reader.pos));
    } else if (wireType === WireType.LengthDelimited) {
      chunkCount++;
    } else {
      throw new Error('manifest chunk reference is not length-delimited');
    }
  }
  return { manifest: fromBinary(ManifestSchema, others.bytes()), chunkCount };
}

/** A manifest's chunk references, in order, each decoded as it is reached. */
export function* chunkRefsOf(bytes: Uint8Array): Generator<ChunkRef> {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === CHUNKS_FIELD && wireType === WireType.LengthDelimited) {
      yield fromBinary(ChunkRefSchema, reader.bytes());
    } else {
      reader.skip(wireType, field);
    }
  }
}

/** Bytes appended into one buffer, its capacity doubled when it runs out. */
class GrowingBytes {
  #buffer: Uint8Array;
  #length = 0;

  constructor(capacity: number) {
    this.#buffer = new Uint8Array(capacity);
  }

  append(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + bytes.length));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** What was appended, in a buffer of its own size. */
  bytes(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}
