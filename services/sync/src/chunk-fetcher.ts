import { setTimeout as sleep } from 'node:timers/promises';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { FederationCenter } from '@vitrine/channel';
import { ChunkPlaintextSchema, FetchChunksPlaintextSchema } from '@vitrine/proto/sync';
import type { ChunkReplica, Replica } from '@vitrine/registry';
import type { Logger } from '@vitrine/rpc';
import type { SyncConfig } from './config.js';
import type { Federation } from './federation.js';
import { openPeerSession } from './peer-session.js';
import { FETCH_CHUNKS_STREAM } from './service.js';
import { syncMetrics } from './sync-metrics.js';

/** Chunks asked of a peer per FetchChunks call (at most 64 MiB at the 256 KiB maximum). */
export const FETCH_BATCH = 256;

/**
 * Fetches the bytes of artifacts this center knows from their manifests but does not hold
 * yet: the chunks it lacks, from whichever peer has them (each verified against its digest
 * before it is stored), then verifies each completed artifact whole and makes it available.
 * Wakes when events arrive; backs off while no peer can help.
 */
export class ChunkFetcher {
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    private readonly federation: Federation,
    private readonly replica: Replica,
    private readonly chunks: ChunkReplica,
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
    let delay = this.backoff.initialMs;
    while (!signal.aborted) {
      const woken = this.replica.changes.next(signal);
      try {
        await this.chunks.complete((id, err) =>
          this.logger.error(
            { artifact: id, err: String(err) },
            'replicated artifact failed verification',
          ),
        );
        const missing = await this.chunks.missing(FETCH_BATCH);
        if (missing.length === 0) {
          await woken;
          continue;
        }
        if (await this.#fetch(missing, signal)) {
          delay = this.backoff.initialMs;
          continue;
        }
      } catch (err) {
        if (signal.aborted) break;
        this.logger.warn({ err: String(err) }, 'chunk replication failed');
      }
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, this.backoff.maxMs);
    }
  }

  /** Asks peers in turn for what is still missing; true when any chunk arrived. */
  async #fetch(missing: Uint8Array[], signal: AbortSignal): Promise<boolean> {
    let wanted = missing;
    const peers = this.federation.manifest.centers.filter((c) => c.id !== this.federation.self.id);
    for (const peer of peers) {
      if (wanted.length === 0 || signal.aborted) break;
      try {
        wanted = await this.#fetchFrom(peer, wanted, signal);
      } catch (err) {
        this.logger.warn({ peer: peer.id, err: String(err) }, 'fetching chunks from peer failed');
      }
    }
    return wanted.length < missing.length;
  }

  /** One FetchChunks call; resolves with the digests the peer did not have. */
  async #fetchFrom(
    peer: FederationCenter,
    digests: Uint8Array[],
    signal: AbortSignal,
  ): Promise<Uint8Array[]> {
    const { client, session } = await openPeerSession(this.federation, peer, signal);
    const request = toBinary(
      FetchChunksPlaintextSchema,
      create(FetchChunksPlaintextSchema, { digests }),
    );
    const ciphertext = session.sender(FETCH_CHUNKS_STREAM).seal(request, { final: true });
    const receiver = session.receiver(FETCH_CHUNKS_STREAM);
    const notHeld: Uint8Array[] = [];
    const stream = client.fetchChunks({ frame: { sessionId: session.id, ciphertext } }, { signal });
    for await (const res of stream) {
      const chunk = fromBinary(
        ChunkPlaintextSchema,
        receiver.open(res.frame?.ciphertext ?? new Uint8Array()).plaintext,
      );
      if (chunk.missing) {
        notHeld.push(chunk.digest);
        continue;
      }
      await this.chunks.receive(chunk.digest, chunk.data);
      syncMetrics.chunksFetched.add(1, { peer: peer.id });
      syncMetrics.bytesFetched.add(chunk.data.length, { peer: peer.id });
    }
    return notHeld;
  }
}
