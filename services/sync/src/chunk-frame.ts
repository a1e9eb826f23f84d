import { toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { type ChunkPlaintext, ChunkPlaintextSchema } from '@vitrine/proto/sync';

/** Field numbers of ChunksPlaintext.chunks and ChunkPlaintext.data. */
const CHUNKS_FIELD = 1;
const DATA_FIELD = 2;

/**
 * A ChunksPlaintext message holding `chunks`, as the pieces of its encoding, every chunk's
 * bytes left where they lie: joined, the pieces decode (`fromBinary`) to exactly that
 * message. Sealed piece by piece (`SealedSender.seal`), a chunk's bytes are copied once, into
 * the frame; `toBinary` would copy them twice before (into their ChunkPlaintext, then into
 * the ChunksPlaintext). A chunk's data field comes after its other fields, which protobuf
 * readers take in any order.
 */
export function chunksPlaintextParts(chunks: readonly ChunkPlaintext[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const chunk of chunks) {
    const { data } = chunk;
    const rest = toBinary(ChunkPlaintextSchema, { ...chunk, data: NO_DATA });
    // proto3 leaves an empty bytes field out.
    const dataHead =
      data.length > 0
        ? new BinaryWriter().tag(DATA_FIELD, WireType.LengthDelimited).uint32(data.length).finish()
        : NO_DATA;
    const head = new BinaryWriter()
      .tag(CHUNKS_FIELD, WireType.LengthDelimited)
      .uint32(rest.length + dataHead.length + data.length)
      .raw(rest)
      .raw(dataHead)
      .finish();
    parts.push(head, data);
  }
  return parts;
}

const NO_DATA = new Uint8Array(0);
