/**
 * Counts the commits that brought artifacts published at another center — the only way an
 * artifact starts replicating here — so the chunk side of replication can tell that there
 * is still nothing to fetch from a number, instead of querying on every commit of the log.
 */
export class ArtifactArrivals {
  #count = 0;

  /** How many such commits there have been since the process started. */
  get count(): number {
    return this.#count;
  }

  /** Called once a transaction that recorded artifacts published elsewhere has committed. */
  arrived(): void {
    this.#count++;
  }
}
