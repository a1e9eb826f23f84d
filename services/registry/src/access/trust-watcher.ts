import { AccessService } from '@vitrine/proto/access';
import { Backoff, type BackoffPolicy, createGrpcClient, type Logger } from '@vitrine/rpc';
import type { TrustState } from './trust-state.js';

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
    /** Reconnect delays after a failed or ended WatchTrust stream. */
    private readonly backoff: BackoffPolicy,
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
    const backoff = new Backoff(this.backoff);
    while (!signal.aborted) {
      try {
        for await (const signed of client.watchTrust({ centerId: this.centerId }, { signal })) {
          await this.state.accept(signed);
          backoff.reset();
        }
      } catch (err) {
        if (signal.aborted) break;
        const reason = err instanceof Error ? err.message : String(err);
        this.logger.warn({ access: this.accessUrl, err: reason }, 'trust stream failed');
      }
      await backoff.wait(signal);
    }
  }
}
