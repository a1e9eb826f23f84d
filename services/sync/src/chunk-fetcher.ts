import type { Client } from '@connectrpc/connect';
import type { FederationCenter } from '@vitrine/channel';
import { toHex } from '@vitrine/crypto';
import type { SyncService } from '@vitrine/proto/sync';
import type { ChunkBase, ChunkReplica, Replica } from '@vitrine/registry';
import { Backoff, type Logger } from '@vitrine/rpc';
import type { SyncConfig } from './config.js';
import type { Federation } from './federation.js';
import { FetchPlan } from './fetch-plan.js';
import { type FetchedChunk, fetchChunksFrom } from './peer-chunks.js';
import { peerClient } from './peer-session.js';
import type { PeerStatuses } from './peer-status.js';
import { syncMetrics } from './sync-metrics.js';
import { TaskWindow } from './task-window.js';

/** One fetch round: the plan all peers share, and what its chunks are being stored as. */
interface Round {
  readonly plan: FetchPlan;
  /** For chunks of the round, by hex digest: bytes held here each may come as a patch of. */
  readonly bases: ReadonlyMap<string, ChunkBase>;
  /** One per chunk written in the round: settles once it is recorded as held. */
  readonly recorded: Promise<void>[];
}

/** Missing chunks taken on per round (the plan all peers share). */
const ROUND_CHUNKS = 1024;
/** FetchChunks calls open at once to one peer: the next batch is on its way while one is stored. */
export const CALLS_PER_PEER = 2;
/**
 * Chunks asked per FetchChunks call: each call opens a session (a handshake), so fewer,
 * larger calls cost less (docs/decisions/0006-chunk-fetch-calls.md). HTTP/2 flow control
 * bounds what a call has in flight, asked and not yet stored, to its window (8 MiB; a call
 * asks about 4 MiB at the 64 KiB mean chunk size).
 */
export const CHUNKS_PER_CALL = 64;
/**
 * Chunks of one call being written at once: all of them. A call's chunks (about 4 MiB) bound
 * what it holds; writing them as they come lets the store write many to a call, where a
 * smaller limit held the stream back (docs/decisions/0006-chunk-fetch-calls.md).
 */
const STORES_PER_CALL = CHUNKS_PER_CALL;

/**
 * Fetches the bytes of artifacts this center knows from their manifests but does not hold
 * yet: the chunks it lacks, from every peer that holds them at once (each verified against
 * its digest before it is stored), then verifies each completed artifact whole and makes it
 * available. Wakes when events arrive; backs off while no peer can help.
 */
export class ChunkFetcher {
  readonly #stop = new AbortController();
  /** One client, so one HTTP/2 connection, per peer for every batch. */
  readonly #clients = new Map<string, Client<typeof SyncService>>();
  #running: Promise<void> | undefined;

  constructor(
    private readonly federation: Federation,
    private readonly replica: Replica,
    private readonly chunks: ChunkReplica,
    private readonly statuses: PeerStatuses,
    private readonly backoff: SyncConfig['backoff'],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#running = this.#run(this.#stop.signal);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.backoff);
    const changes = this.replica.changes.follow(signal);
    while (!signal.aborted) {
      const woken = changes.armed();
      try {
        await this.chunks.complete((id, err) =>
          this.logger.error(
            { artifact: id, err: String(err) },
            'replicated artifact failed verification',
          ),
        );
        const missing = await this.chunks.missing(ROUND_CHUNKS);
        if (missing.length === 0) {
          await woken;
          continue;
        }
        if (await this.#round(missing, signal)) {
          backoff.reset();
          continue;
        }
      } catch (err) {
        if (signal.aborted) break;
        this.logger.warn({ err: String(err) }, 'chunk replication failed');
      }
      await backoff.wait(signal);
    }
  }

  /**
   * Shares `missing` out among every peer at once, each chunk with its base where it has
   * one (a new version's chunks may come as patches of the old one's); true when any chunk
   * was stored.
   */
  async #round(missing: Uint8Array[], signal: AbortSignal): Promise<boolean> {
    const peers = this.federation.manifest.centers.filter((c) => c.id !== this.federation.self.id);
    const round: Round = {
      plan: new FetchPlan(
        missing,
        peers.map((p) => p.id),
      ),
      bases: await this.chunks.basesFor(missing),
      recorded: [],
    };
    await Promise.all(peers.map((peer) => this.#fetchFrom(peer, round, signal)));
    // The next round asks the records what is missing: every chunk written is recorded first.
    await this.chunks.recordNow();
    await Promise.all(round.recorded);
    return round.plan.storedCount > 0;
  }

  /** Fetches from `peer` over a few calls at once, until the plan has nothing more for it. */
  async #fetchFrom(peer: FederationCenter, round: Round, signal: AbortSignal): Promise<void> {
    const calls = Array.from({ length: CALLS_PER_PEER }, () =>
      this.#callAfterCall(peer, round, signal),
    );
    await Promise.all(calls);
    round.plan.leave(peer.id);
  }

  /**
   * Takes batches for `peer` one after the other. Stops when the peer held none of a batch
   * (others are asked for those) or failed: what it had not delivered goes to other peers.
   */
  async #callAfterCall(peer: FederationCenter, round: Round, signal: AbortSignal) {
    for (;;) {
      const batch = await round.plan.next(peer.id, CHUNKS_PER_CALL);
      if (batch.length === 0) return;
      try {
        if ((await this.#fetchBatch(peer, batch, round, signal)) === 0) return;
      } catch (err) {
        for (const digest of batch) round.plan.lacks(peer.id, digest);
        if (!signal.aborted) {
          this.statuses.of(peer.id).lastError = err instanceof Error ? err.message : String(err);
          this.logger.warn({ peer: peer.id, err: String(err) }, 'fetching chunks from peer failed');
        }
        return;
      }
    }
  }

  /** One FetchChunks call, writing its chunks as they arrive; how many the peer held. */
  async #fetchBatch(
    peer: FederationCenter,
    batch: Uint8Array[],
    round: Round,
    signal: AbortSignal,
  ): Promise<number> {
    const client = this.#clients.get(peer.id) ?? peerClient(this.federation, peer);
    this.#clients.set(peer.id, client);
    const storing = new TaskWindow(STORES_PER_CALL);
    const batchBases = batch.map((d) => round.bases.get(toHex(d)));
    let held = 0;
    try {
      const answers = fetchChunksFrom(this.federation, peer, client, batch, signal, batchBases);
      for await (const answer of answers) {
        if (answer.chunk.missing) {
          answer.done();
          round.plan.lacks(peer.id, answer.digest);
          continue;
        }
        held++;
        await storing.add(() => this.#store(peer, answer, round));
      }
      await storing.finish();
    } finally {
      await storing.drain();
    }
    return held;
  }

  /**
   * Stores one chunk from `peer` — sent whole or as a patch of `base`, held here — verified
   * against its digest first, and counts the bytes that came over the wire. Resolves once
   * it is written (and its frame's memory let go); its record joins the round's.
   */
  #store(peer: FederationCenter, answer: FetchedChunk, round: Round): Promise<void> {
    // Only the answer's own digest outlives the write: the chunk's fields are views into
    // its frame (about 1 MiB), freed once every chunk in it is written.
    const { digest, chunk, base } = answer;
    const bytes = chunk.data.length;
    const { written, recorded } =
      chunk.patch && base
        ? this.chunks.receivePatch(digest, base, {
            prefix: chunk.prefix,
            suffix: chunk.suffix,
            middle: chunk.data,
          })
        : this.chunks.receive(digest, chunk.data);
    return written.finally(answer.done).then(() => {
      // Only a chunk written has a record to wait for: one refused is another peer's.
      round.recorded.push(recorded);
      round.plan.stored(peer.id, digest);
      const status = this.statuses.of(peer.id);
      status.chunksFetched++;
      status.bytesFetched += bytes;
      syncMetrics.chunksFetched.add(1, { peer: peer.id });
      syncMetrics.bytesFetched.add(bytes, { peer: peer.id });
    });
  }
}
