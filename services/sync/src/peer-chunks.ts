import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { FederationCenter } from '@vitrine/channel';
import { releaseMemory, SharedRelease } from '@vitrine/chunks';
import { bytesEqual } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import {
  type ChunkPlaintext,
  ChunksPlaintextSchema,
  FetchChunksPlaintextSchema,
  type SyncService,
} from '@vitrine/proto/sync';
import type { ChunkBase } from '@vitrine/registry';
import type { Federation } from './federation.js';
import { openPeerSession } from './peer-session.js';
import { FETCH_CHUNKS_STREAM } from './service.js';

/** One answer of a peer, with the base it was asked with (which a patch is a patch of). */
export interface FetchedChunk {
  /** The digest asked for, the caller's own; `chunk.digest` is its copy in the frame. */
  readonly digest: Uint8Array;
  /** Its fields are views into the opened frame (see `done`). */
  readonly chunk: ChunkPlaintext;
  readonly base: ChunkBase | undefined;
  /**
   * Call once nothing reads `chunk`'s bytes any more (its write settled): the frame's memory
   * is freed as soon as every answer in it is done and the stream has moved past it, where
   * it would otherwise wait for a garbage collection. An answer never done only leaves its
   * frame to the collector; one read after it is done reads as empty.
   */
  readonly done: () => void;
}

/**
 * Bytes a FetchChunksResponse holds besides its frame: the field's tag and length. Connect
 * reads every message into a buffer of its own, so a frame that fills all of its buffer but
 * these is freed once it is opened.
 */
const RESPONSE_HEAD_BYTES = 6;

/**
 * One FetchChunks call: asks `peer`, over a fresh session on `client`, for `digests` (with
 * the base each likely shares most of its bytes with, where `bases` names one, so the peer
 * may send a patch of it) and yields its answers (a chunk, or that it lacks one; several to
 * a frame) as they are read, so the stream moves only as fast as the caller stores — HTTP/2
 * flow control holds the peer back. An answer for a chunk not asked at that place, or a
 * stream that ends before every chunk is answered, fails with `data_loss`, as does a patch
 * of a chunk given no base. The bytes are not verified here: the replica checks each chunk
 * against its digest before storing it.
 */
export async function* fetchChunksFrom(
  federation: Federation,
  peer: FederationCenter,
  client: Client<typeof SyncService>,
  digests: readonly Uint8Array[],
  signal: AbortSignal,
  bases: readonly (ChunkBase | undefined)[] = [],
): AsyncGenerator<FetchedChunk, void, undefined> {
  const { session } = await openPeerSession(federation, peer, signal, client);
  const request = create(FetchChunksPlaintextSchema, {
    digests: [...digests],
    bases: bases.map((b) =>
      b ? { run: [...b.run], startGap: BigInt(b.startGap), endGap: BigInt(b.endGap) } : {},
    ),
  });
  const frame = session
    .sender(FETCH_CHUNKS_STREAM)
    .seal(toBinary(FetchChunksPlaintextSchema, request), { final: true });
  const receiver = session.receiver(FETCH_CHUNKS_STREAM);
  const stream = client.fetchChunks({ sessionId: session.id, frame }, { signal });
  let answered = 0;
  for await (const res of stream) {
    const opened = receiver.open(res.frame);
    if (res.frame.buffer.byteLength - res.frame.byteLength <= RESPONSE_HEAD_BYTES) {
      releaseMemory(res.frame.buffer);
    }
    const frameMemory = new SharedRelease(opened.plaintext.buffer);
    try {
      const { chunks } = fromBinary(ChunksPlaintextSchema, opened.plaintext);
      if (chunks.length === 0) {
        throw new VitrineError('data_loss', `${peer.id} sent an empty frame`);
      }
      for (const chunk of chunks) {
        const at = answered++;
        const asked = digests[at];
        if (asked === undefined || !bytesEqual(asked, chunk.digest)) {
          throw new VitrineError(
            'data_loss',
            `${peer.id} answered with a chunk not asked for there`,
          );
        }
        const base = bases[at];
        if (chunk.patch && base === undefined) {
          throw new VitrineError(
            'data_loss',
            `${peer.id} sent a patch of a chunk it was given no base for`,
          );
        }
        yield { digest: asked, chunk, base, done: frameMemory.take() };
      }
    } finally {
      frameMemory.close();
    }
  }
  if (answered < digests.length) {
    throw new VitrineError(
      'data_loss',
      `${peer.id} answered ${answered} of ${digests.length} chunks asked`,
    );
  }
}
