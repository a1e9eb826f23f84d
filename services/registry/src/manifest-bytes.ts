import { create, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ChunkRefSchema, type Manifest, ManifestSchema } from '@vitrine/proto/artifact';

/** Field number of Manifest.chunks: after it come residency (7) and supersedes (8). */
const CHUNKS_FIELD = 6;
/** Bytes one chunk reference takes: tag and length, a 32-byte digest, a size under 2^21. */
const CHUNK_REF_BYTES = 40;

/**
 * The canonical binary encoding of a manifest: byte for byte what
 * `toBinary(ManifestSchema, manifest)` gives, fields in number order. `toBinary` encodes
 * every ChunkRef into a buffer of its own and holds them all until it joins them at the end
 * (for the 65,536 chunks of a 4 GiB artifact, about 35 MB of heap at once); here each
 * reference is written into the output as it is encoded, and only the output stays.
 */
export function encodeManifest(manifest: Manifest): Uint8Array {
  const head = toBinary(ManifestSchema, { ...manifest, chunks: [], residency: [], supersedes: '' });
  const tail = toBinary(
    ManifestSchema,
    create(ManifestSchema, { residency: manifest.residency, supersedes: manifest.supersedes }),
  );
  const out = new GrowingBytes(
    head.length + tail.length + manifest.chunks.length * CHUNK_REF_BYTES,
  );
  out.append(head);
  for (const chunk of manifest.chunks) {
    const ref = toBinary(ChunkRefSchema, chunk);
    out.append(new BinaryWriter().tag(CHUNKS_FIELD, WireType.LengthDelimited).bytes(ref).finish());
  }
  out.append(tail);
  return out.bytes();
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
