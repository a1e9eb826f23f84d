import { setTimeout as sleep } from 'node:timers/promises';
import { AccessService } from '@vitrine/proto/access';
import { createGrpcClient, type Logger } from '@vitrine/rpc';
import type { TrustState } from './trust-state.js';

/** Reconnect delays after a failed or ended WatchTrust stream, in milliseconds. */
export interface WatchBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Keeps a center's trust state current: subscribes to the access service's WatchTrust and
 * hands every snapshot to the state, which verifies it. A broken stream is reopened with
 * exponential back-off; meanwhile the center goes on verifying with what it holds.
 */
export class TrustWatcher {
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    private readonly accessUrl: string,
    private readonly centerId: string,
    private readonly state: TrustState,
    private readonly backoff: WatchBackoff,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#running ??= this.#follow();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #follow(): Promise<void> {
    const signal = this.#stop.signal;
    const client = createGrpcClient(AccessService, this.accessUrl);
    let delay = this.backoff.initialMs;
    while (!signal.aborted) {
      try {
        for await (const signed of client.watchTrust({ centerId: this.centerId }, { signal })) {
          await this.state.accept(signed);
          delay = this.backoff.initialMs;
        }
      } catch (err) {
        if (signal.aborted) break;
        const reason = err instanceof Error ? err.message : String(err);
        this.logger.warn({ access: this.accessUrl, err: reason }, 'trust stream failed');
      }
      await sleep(delay * (1 + Math.random() * 0.2), undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, this.backoff.maxMs);
    }
  }
}
