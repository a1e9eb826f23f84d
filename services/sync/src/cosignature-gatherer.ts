import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckpointPublisher, Cosignatures, SignedCheckpoint } from '@vitrine/registry';
import { ADD_CHECKPOINT_PATH, witnessKey } from '@vitrine/registry';
import type { Logger } from '@vitrine/rpc';
import {
  formatAddCheckpoint,
  type NoteKey,
  parseTreeSize,
  TREE_SIZE_CONTENT_TYPE,
} from '@vitrine/tlog';
import type { SyncConfig } from './config.js';
import type { Federation } from './federation.js';

/** How long one add-checkpoint call to a peer's witness may take. */
const CALL_TIMEOUT_MS = 10_000;
/** 409 answers followed in a row before the round counts as failed (sizes keep moving). */
const MAX_CONFLICTS = 3;

/** A peer's witness: where it takes checkpoints, and the key its cosignatures verify with. */
interface PeerWitness {
  readonly id: string;
  readonly url: string;
  readonly key: NoteKey;
}

/**
 * Gathers cosignatures for the center's own checkpoints from every peer's witness
 * (C2SP tlog-witness `add-checkpoint` on the peer registry's port), one loop per peer so a
 * peer that is down delays no other. Each loop wakes when the center signs a checkpoint,
 * submits the latest with a consistency proof from the size that witness last cosigned
 * (learnt from its 409 answer when unknown), keeps the cosignature it returns beside the
 * checkpoint, and backs off (`backoff`, doubling) while the peer fails.
 */
export class CosignatureGatherer {
  readonly #stop = new AbortController();
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly federation: Federation,
    private readonly checkpoints: CheckpointPublisher,
    private readonly cosignatures: Cosignatures,
    private readonly backoff: SyncConfig['backoff'],
    private readonly logger: Logger,
  ) {}

  start(): void {
    const { manifest, self } = this.federation;
    const peers = manifest.centers
      .filter((c) => c.id !== self.id)
      .map((c) => ({
        id: c.id,
        url: new URL(ADD_CHECKPOINT_PATH, c.registry).toString(),
        key: witnessKey(manifest.federation, c.id, c.signingKey),
      }));
    this.#running ??= Promise.all(peers.map((peer) => this.#run(peer, this.#stop.signal)));
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(peer: PeerWitness, signal: AbortSignal): Promise<void> {
    const published = this.checkpoints.published.follow(signal);
    let delay = this.backoff.initialMs;
    let cosigned = -1;
    let known: number | undefined;
    while (!signal.aborted) {
      const woken = published.armed();
      try {
        const latest = await this.checkpoints.latest();
        if (latest !== undefined && latest.size !== cosigned) {
          known = await this.#cosign(peer, latest, known, signal);
          cosigned = latest.size;
        }
        delay = this.backoff.initialMs;
        await woken;
      } catch (err) {
        if (signal.aborted) break;
        known = undefined;
        this.logger.warn({ err: String(err), peer: peer.id }, 'checkpoint not cosigned by peer');
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }

  /** Gets `peer`'s cosignature of `checkpoint`; returns the size its witness now holds. */
  async #cosign(
    peer: PeerWitness,
    checkpoint: SignedCheckpoint,
    known: number | undefined,
    signal: AbortSignal,
  ): Promise<number> {
    let oldSize = known ?? 0;
    for (let conflicts = 0; conflicts <= MAX_CONFLICTS; conflicts++) {
      if (oldSize > checkpoint.size) {
        throw new Error(
          `${peer.id}'s witness cosigned size ${oldSize} of this log, beyond its latest checkpoint (${checkpoint.size})`,
        );
      }
      const proof =
        oldSize > 0 && oldSize < checkpoint.size
          ? await this.checkpoints.prove(oldSize, checkpoint.size)
          : [];
      const res = await fetch(peer.url, {
        method: 'POST',
        body: formatAddCheckpoint({ oldSize, proof, note: checkpoint.note }),
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.any([signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]),
      });
      const body = await res.text();
      if (res.status === 200) {
        const kept = await this.cosignatures.add(checkpoint, body, peer.key);
        if (kept === 0) throw new Error(`${peer.id}'s witness answered without its cosignature`);
        return checkpoint.size;
      }
      if (res.status === 409 && res.headers.get('content-type') === TREE_SIZE_CONTENT_TYPE) {
        const held = parseTreeSize(body);
        // Its size again: the same size with another root, which its witness keeps as evidence.
        if (held === oldSize) throw new Error(`${peer.id}'s witness refused size ${held}`);
        oldSize = held;
        continue;
      }
      throw new Error(`${peer.id}'s witness answered ${res.status}: ${body.trim()}`);
    }
    throw new Error(`${peer.id}'s witness kept answering 409`);
  }
}
