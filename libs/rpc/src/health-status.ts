import { HealthCheckResponse_ServingStatus as ServingStatus } from '@vitrine/proto/health';

/**
 * The serving status of a server and of each service it hosts, as reported by
 * grpc.health.v1. Load balancers and orchestrators read it; a server marks everything
 * NOT_SERVING as soon as it starts shutting down so traffic drains before it stops.
 */
export class HealthStatus {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #listeners = new Set<() => void>();
  #shuttingDown = false;

  /** Starts with the whole server ("") and each named service SERVING. */
  constructor(services: Iterable<string>) {
    this.#statuses.set('', ServingStatus.SERVING);
    for (const service of services) this.#statuses.set(service, ServingStatus.SERVING);
  }

  /** The status of one service ("" for the whole server), undefined when it is not known. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** True once `shutdown()` ran: statuses no longer change and watchers are told to stop. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Sets one service's status (a dependency went away, came back, …) and tells watchers. */
  set(service: string, status: ServingStatus): void {
    if (this.#shuttingDown || this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    this.#notify();
  }

  /** Marks the server and every service NOT_SERVING for good; the first step of closing. */
  shutdown(): void {
    if (this.#shuttingDown) return;
    for (const service of this.#statuses.keys()) {
      this.#statuses.set(service, ServingStatus.NOT_SERVING);
    }
    this.#shuttingDown = true;
    this.#notify();
  }

  /**
   * Yields a service's status now and after every change (SERVICE_UNKNOWN while it is
   * not known), until `signal` aborts or shutdown has been reported.
   */
  async *watch(service: string, signal: AbortSignal): AsyncGenerator<ServingStatus> {
    const pending: ServingStatus[] = [];
    let last: ServingStatus | undefined;
    let wake: (() => void) | undefined;
    const update = (): void => {
      const status = this.#statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
      if (status !== last) pending.push(status);
      last = status;
      wake?.();
    };
    const onAbort = (): void => wake?.();
    this.#listeners.add(update);
    signal.addEventListener('abort', onAbort);
    try {
      update();
      for (;;) {
        while (pending.length > 0) yield pending.shift() as ServingStatus;
        if (signal.aborted || this.#shuttingDown) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.#listeners.delete(update);
      signal.removeEventListener('abort', onAbort);
    }
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }
}
