/** What this center knows of its link to one peer, for `GetStatus` and metrics. */
export interface PeerStatus {
  readonly id: string;
  connected: boolean;
  lastContact: Date | undefined;
  eventsReceived: number;
  eventsApplied: number;
  /** Bodies of events held here as headers alone, fetched from this peer. */
  bodiesFetched: number;
  /** Artifact chunks fetched from this peer and stored here, and their bytes. */
  chunksFetched: number;
  bytesFetched: number;
  lastError: string;
}

/** Link state to every peer, updated by the replicator and the chunk fetcher. */
export class PeerStatuses {
  readonly #peers = new Map<string, PeerStatus>();

  /** The (created on first use) status of a peer. */
  of(id: string): PeerStatus {
    let status = this.#peers.get(id);
    if (!status) {
      status = {
        id,
        connected: false,
        lastContact: undefined,
        eventsReceived: 0,
        eventsApplied: 0,
        bodiesFetched: 0,
        chunksFetched: 0,
        bytesFetched: 0,
        lastError: '',
      };
      this.#peers.set(id, status);
    }
    return status;
  }

  /** Every peer's status, by id. */
  all(): PeerStatus[] {
    return [...this.#peers.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
