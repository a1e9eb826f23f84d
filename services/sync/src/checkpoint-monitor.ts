import type { Client } from '@connectrpc/connect';
import { LogService } from '@vitrine/proto/log';
import type { CheckpointWitness } from '@vitrine/registry';
import { createGrpcClient, type Logger } from '@vitrine/rpc';
import type { Federation } from './federation.js';

/** How long one call to a peer's LogService may take. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * Fetches every peer's latest checkpoint (its registry's LogService) at each interval and
 * hands it to the center's witness, which holds it to what the peer signed and sent
 * before. Evidence of a fork or rollback is logged at error level as it is found; an
 * unreachable peer is tried again at the next round.
 */
export class CheckpointMonitor {
  readonly #stop = new AbortController();
  readonly #clients = new Map<string, Client<typeof LogService>>();
  #running: Promise<void> | undefined;

  constructor(
    private readonly federation: Federation,
    private readonly witness: CheckpointWitness,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** One look at every peer's latest checkpoint. */
  async round(): Promise<void> {
    for (const peer of this.federation.manifest.centers) {
      if (peer.id === this.federation.self.id || this.#stop.signal.aborted) continue;
      try {
        await this.#check(peer.id, peer.registry);
      } catch (err) {
        this.logger.warn({ err, peer: peer.id }, 'peer checkpoint not checked');
      }
    }
  }

  async #check(peer: string, registry: string): Promise<void> {
    const client = this.#client(registry);
    // A deadline per call, not the monitor's signal: a call that outlives stop() ends by it.
    const options = { timeoutMs: CALL_TIMEOUT_MS };
    const { checkpoint } = await client.getCheckpoint({}, options);
    const prove = async (oldSize: number, newSize: number) => {
      const res = await client.getConsistencyProof(
        { oldSize: BigInt(oldSize), newSize: BigInt(newSize) },
        options,
      );
      return res.proof;
    };
    const observation = await this.witness.observe(peer, checkpoint, true, prove);
    if (observation.outcome === 'evidence') {
      const { kind, message } = observation.evidence;
      this.logger.error({ peer, kind }, `transparency log of ${peer}: ${message}`);
    }
  }

  #client(registry: string): Client<typeof LogService> {
    let client = this.#clients.get(registry);
    if (client === undefined) {
      client = createGrpcClient(LogService, registry);
      this.#clients.set(registry, client);
    }
    return client;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await this.round();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, this.intervalMs);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
