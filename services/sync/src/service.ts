import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { type HandshakeReplays, respondToHandshake } from '@vitrine/channel';
import { FieldViolations, VitrineError } from '@vitrine/errors';
import type { SignedEvent } from '@vitrine/proto/event';
import {
  type ChunkBase as ChunkBaseMessage,
  type ChunkPlaintext,
  ChunkPlaintextSchema,
  EventsPlaintextSchema,
  FetchChunksPlaintextSchema,
  type FetchChunksRequestSchema,
  type FetchChunksResponseSchema,
  FetchEventsPlaintextSchema,
  PeerStatusSchema,
  SubscribePlaintextSchema,
  SyncService,
} from '@vitrine/proto/sync';
import {
  type ChunkBase,
  type ChunkReplica,
  MAX_BASE_RUN,
  type Replica,
  type ServedChunk,
} from '@vitrine/registry';
import { bytesFieldPieces, type EncodedStream } from '@vitrine/rpc';
import { chunksPlaintextParts } from './chunk-frame.js';
import type { Federation } from './federation.js';
import type { PeerStatuses } from './peer-status.js';
import { readyBatches } from './ready-batches.js';
import { decodePlaintext } from './sealed-plaintext.js';
import type { SessionTable } from './sessions.js';

/** Label of the sealed stream that carries a subscription, in both directions. */
export const SUBSCRIBE_STREAM = 'subscribe';

/**
 * Most events sealed in one Subscribe frame: a peer catching up on a long log gets frames of
 * many events (one seal, one message each), while an event committed live still goes out
 * alone as soon as it is read.
 */
export const FRAME_EVENTS = 1024;
/** About the most bytes of events or chunks sealed in one frame. */
const FRAME_BYTES = 1024 * 1024;
/** Label of the sealed stream that carries a chunk request and its chunks. */
export const FETCH_CHUNKS_STREAM = 'fetch-chunks';
/**
 * Most chunks sealed in one FetchChunks frame (about 1 MiB at the 64 KiB mean chunk size):
 * the seal, message and stream overhead a chunk used to pay alone is shared by those read
 * by the time the previous frame was sent.
 */
const FRAME_CHUNKS = 16;
/** FetchChunksResponse.frame's field number. */
const RESPONSE_FRAME_FIELD = 2;
/** Most chunks one FetchChunks call may ask for. */
export const MAX_FETCH = 1024;
/** Label of the sealed stream that carries a FetchEvents request and its events. */
export const FETCH_EVENTS_STREAM = 'fetch-events';
/** Most events one FetchEvents call may ask for. */
export const MAX_FETCH_EVENTS = 1024;

/**
 * The sync service's handlers, answering peers: Handshake authenticates a peer against
 * the federation manifest and agrees session keys (a fresh request only, `replays`; a
 * bounded number of sessions waiting per peer, `sessions`); Subscribe streams, sealed, every event
 * the peer lacks and then new ones live, bodies only where their residency allows the peer;
 * FetchEvents sends the bodies a peer holds headers of alone, where residency allows it.
 * FetchChunks is served apart, as an encoded stream (`fetchChunksStream`).
 */
export function syncService(
  federation: Federation,
  replica: Replica,
  chunks: ChunkReplica,
  sessions: SessionTable,
  statuses: PeerStatuses,
  replays: HandshakeReplays,
): Partial<ServiceImpl<typeof SyncService>> {
  return {
    async handshake(req) {
      sessions.assertRoom(req.centerId);
      const { response, session } = await respondToHandshake({
        manifest: federation.manifest,
        self: federation.self,
        request: req,
        replays,
      });
      sessions.add(session);
      return response;
    },

    async *subscribe(req, ctx) {
      const session = sessions.take(sealedRequest(req));
      const opened = session.receiver(SUBSCRIBE_STREAM).open(req.frame);
      const request = decodePlaintext(SubscribePlaintextSchema, opened.plaintext);
      const peer = federation.manifest.center(session.peerId);
      if (!peer) throw new VitrineError('unauthenticated', 'peer left the federation');
      const vector = new Map(request.versionVector.map((e) => [e.origin, e.seq]));
      const sender = session.sender(SUBSCRIBE_STREAM);
      const feed = replica.feed(peer, vector, ctx.signal);
      for await (const ready of readyBatches(feed, FRAME_EVENTS)) {
        for (const events of framesOf(ready, eventSize)) {
          const plaintext = toBinary(
            EventsPlaintextSchema,
            create(EventsPlaintextSchema, { events }),
          );
          yield { frame: sender.seal(plaintext) };
        }
      }
    },

    async *fetchEvents(req) {
      const session = sessions.take(sealedRequest(req));
      const opened = session.receiver(FETCH_EVENTS_STREAM).open(req.frame);
      const { events: refs } = decodePlaintext(FetchEventsPlaintextSchema, opened.plaintext);
      if (refs.length === 0 || refs.length > MAX_FETCH_EVENTS) {
        throw new VitrineError(
          'invalid_argument',
          `ask for 1 to ${MAX_FETCH_EVENTS} events per request`,
        );
      }
      const peer = federation.manifest.center(session.peerId);
      if (!peer) throw new VitrineError('unauthenticated', 'peer left the federation');
      const sender = session.sender(FETCH_EVENTS_STREAM);
      for await (const ready of readyBatches(replica.bodiesFor(peer, refs), FRAME_EVENTS)) {
        for (const events of framesOf(ready, eventSize)) {
          const plaintext = toBinary(
            EventsPlaintextSchema,
            create(EventsPlaintextSchema, { events }),
          );
          yield { frame: sender.seal(plaintext) };
        }
      }
    },

    async getStatus() {
      const vector = await replica.versionVector();
      const unapplied = await replica.unapplied();
      return {
        centerId: federation.self.id,
        versionVector: [...vector].map(([origin, seq]) => ({ origin, seq })),
        chunksMissing: BigInt((await chunks.missing(10_000, { peek: true })).length),
        stateDigest: await replica.stateDigest(),
        convergenceDigest: await replica.convergenceDigest(),
        bodiesPending: unapplied.awaiting,
        eventsHeldBack: unapplied.heldBack,
        forkedOrigins: [...(await replica.forked.current())].sort(),
        peers: statuses.all().map((p) =>
          create(PeerStatusSchema, {
            centerId: p.id,
            connected: p.connected,
            ...(p.lastContact ? { lastContact: timestampFromDate(p.lastContact) } : {}),
            lastError: p.lastError,
            eventsReceived: BigInt(p.eventsReceived),
            eventsApplied: BigInt(p.eventsApplied),
            bodiesFetched: BigInt(p.bodiesFetched),
            chunksFetched: BigInt(p.chunksFetched),
            bytesFetched: BigInt(p.bytesFetched),
          }),
        ),
      };
    },
  };
}

/**
 * FetchChunks: sends the chunks asked for, sealed, several to a frame, refusing any of an
 * artifact that may not be held in the peer's jurisdiction. Each response is yielded as the
 * pieces of its encoding — the ciphertext of every chunk's bytes where the cipher left it —
 * so a frame is never copied whole on its way to the peer.
 */
export function fetchChunksStream(
  federation: Federation,
  chunks: ChunkReplica,
  sessions: SessionTable,
): EncodedStream<typeof FetchChunksRequestSchema, typeof FetchChunksResponseSchema> {
  return {
    method: SyncService.method.fetchChunks,
    async *serve(req) {
      const session = sessions.take(sealedRequest(req));
      const opened = session.receiver(FETCH_CHUNKS_STREAM).open(req.frame);
      const asked = decodePlaintext(FetchChunksPlaintextSchema, opened.plaintext);
      const { digests } = asked;
      if (digests.length > MAX_FETCH) {
        throw new VitrineError('invalid_argument', `at most ${MAX_FETCH} chunks per request`);
      }
      const bases = chunkBases(asked.bases, digests.length);
      const peer = federation.manifest.center(session.peerId);
      if (!peer) throw new VitrineError('unauthenticated', 'peer left the federation');
      const sender = session.sender(FETCH_CHUNKS_STREAM);
      const answers = chunks.readManyFor(peer, digests, bases);
      for await (const ready of readyBatches(answers, FRAME_CHUNKS)) {
        for (const frame of framesOf(ready, servedSize)) {
          const sealed = sender.sealPieces(chunksPlaintextParts(frame.map(chunkAnswer)));
          // Sealing copied the chunks' bytes: the reads they came in may go.
          for (const served of frame) served.done();
          yield bytesFieldPieces(RESPONSE_FRAME_FIELD, sealed);
        }
      }
    },
  };
}

/** The session a request's frame is sealed in; `invalid_argument` when either is missing. */
function sealedRequest(req: { readonly sessionId: string; readonly frame: Uint8Array }): string {
  new FieldViolations()
    .check(req.sessionId !== '', 'session_id', 'is required')
    .check(req.frame.length > 0, 'frame', 'is required')
    .throwIfAny();
  return req.sessionId;
}

/**
 * The bases a FetchChunks request names, one per chunk asked (an empty run: none);
 * `invalid_argument` for more bases than chunks, a run over MAX_BASE_RUN chunks, or gaps
 * past what a number holds exactly.
 */
function chunkBases(asked: readonly ChunkBaseMessage[], chunks: number): (ChunkBase | undefined)[] {
  if (asked.length > chunks) {
    throw new VitrineError('invalid_argument', 'more bases than chunks asked for');
  }
  return asked.map(({ run, startGap, endGap }) => {
    if (run.length === 0) return undefined;
    if (run.length > MAX_BASE_RUN) {
      throw new VitrineError('invalid_argument', `a chunk base is at most ${MAX_BASE_RUN} chunks`);
    }
    const most = BigInt(Number.MAX_SAFE_INTEGER);
    if (startGap > most || endGap > most) {
      throw new VitrineError('invalid_argument', 'chunk base gaps are too large');
    }
    return { run, startGap: Number(startGap), endGap: Number(endGap) };
  });
}

/** What one chunk served becomes in a frame: its bytes, a patch of them, or that it is missing. */
function chunkAnswer({ digest, data, patch }: ServedChunk): ChunkPlaintext {
  return create(ChunkPlaintextSchema, {
    digest,
    ...(patch
      ? { data: patch.middle, patch: true, prefix: patch.prefix, suffix: patch.suffix }
      : data
        ? { data }
        : { missing: true }),
  });
}

const eventSize = (e: SignedEvent) => e.header.length + e.signature.length + e.body.length;
const servedSize = ({ digest, data, patch }: ServedChunk) =>
  digest.length + (patch ? patch.middle.length : (data?.length ?? 0));

/** Splits items into frames of at most about FRAME_BYTES each (one item at the least). */
function* framesOf<T>(items: readonly T[], sizeOf: (item: T) => number): Generator<T[]> {
  let frame: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (frame.length > 0 && bytes + size > FRAME_BYTES) {
      yield frame;
      frame = [];
      bytes = 0;
    }
    frame.push(item);
    bytes += size;
  }
  if (frame.length > 0) yield frame;
}
