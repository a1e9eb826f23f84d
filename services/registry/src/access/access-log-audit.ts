import { encodeSignedSnapshot } from '@vitrine/credentials';
import { bytesEqual } from '@vitrine/crypto';
import type { TrustSnapshot, WatchTrustResponse } from '@vitrine/proto/access';
import type { Logger } from '@vitrine/rpc';
import { LogError, verifyConsistency } from '@vitrine/tlog';
import type { ConsistencyProver, LogEvidence } from '../transparency/checkpoint-witness.js';

/** The origin under which evidence against the access service's log is kept. */
export const ACCESS_LOG_ORIGIN = 'access';

/** A trust snapshot as accepted: its decoded content and the signed bytes that carry it. */
export interface HeldSnapshot {
  readonly snapshot: TrustSnapshot;
  readonly signed: WatchTrustResponse;
}

/** Keeps evidence as a center keeps it against a peer's log (both signed statements). */
export type EvidenceKeeper = (evidence: Omit<LogEvidence, 'observedAt'>) => Promise<unknown>;

/**
 * Holds the access service's log to the trust snapshots that name it. Every snapshot
 * names the log's size and root; a newer one must extend the last one checked: a larger
 * size with a consistency proof from the access service that verifies, the same size with
 * the same root. A smaller size is a **rollback**, another root at one size a **fork**, a
 * proof that fails **inconsistent** history: each is kept as log evidence under origin
 * `access`, with both signed snapshots, and shown where a peer's fork is.
 */
export class AccessLogAudit {
  constructor(
    private readonly prove: ConsistencyProver,
    private readonly keep: EvidenceKeeper,
    private readonly logger: Logger,
    /** Waits between asks for a proof; one ask more than there are waits. */
    private readonly retryDelaysMs: readonly number[] = [100, 200, 400, 800, 1600, 3200, 0],
  ) {}

  /**
   * Checks `next` against `held`, the last snapshot checked. Resolves true when the check
   * is done (consistent, or evidence kept), false when no proof could be had (the access
   * service unreachable): the caller checks the next snapshot against `held` again.
   */
  async check(held: HeldSnapshot | undefined, next: HeldSnapshot): Promise<boolean> {
    if (held === undefined) return true;
    const oldSize = Number(held.snapshot.accessLogSize);
    const newSize = Number(next.snapshot.accessLogSize);
    const oldRoot = held.snapshot.accessLogRoot;
    const newRoot = next.snapshot.accessLogRoot;
    const evidence = (kind: LogEvidence['kind'], message: string) =>
      this.#keep({ kind, message, note: statement(next), otherNote: statement(held) });
    if (newSize < oldSize) {
      return evidence(
        'rollback',
        `the access log went back from ${oldSize} to ${newSize} entries (trust snapshots ${held.snapshot.version} and ${next.snapshot.version})`,
      );
    }
    if (newSize === oldSize) {
      if (bytesEqual(oldRoot, newRoot)) return true;
      return evidence('fork', `the access service signed two roots for its log at size ${newSize}`);
    }
    if (oldSize === 0) return true;
    const proof = await this.#proof(oldSize, newSize);
    if (proof === undefined) return false;
    try {
      verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot);
      return true;
    } catch (err) {
      if (!(err instanceof LogError)) throw err;
      return evidence(
        'inconsistent',
        `the access log at ${newSize} is not consistent with its size ${oldSize} named by trust snapshot ${held.snapshot.version}: ${err.message}`,
      );
    }
  }

  /**
   * The proof from the access service, asked again a few times: a snapshot may name a size
   * a moment before a checkpoint covers it, and the service proves only up to its latest.
   */
  async #proof(oldSize: number, newSize: number): Promise<Uint8Array[] | undefined> {
    for (const [attempt, delayMs] of this.retryDelaysMs.entries()) {
      try {
        return await this.prove(oldSize, newSize);
      } catch (err) {
        if (attempt === this.retryDelaysMs.length - 1) {
          const reason = err instanceof Error ? err.message : String(err);
          this.logger.warn(
            { oldSize, newSize, err: reason },
            'access log consistency proof not available: the next snapshot is checked from the same size',
          );
          return undefined;
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    return undefined;
  }

  async #keep(evidence: Omit<LogEvidence, 'observedAt' | 'origin'>): Promise<true> {
    await this.keep({ origin: ACCESS_LOG_ORIGIN, ...evidence });
    this.logger.error(
      { origin: ACCESS_LOG_ORIGIN, kind: evidence.kind },
      `access log evidence kept: ${evidence.message}`,
    );
    return true;
  }
}

/**
 * A trust snapshot as kept in log evidence: a line naming its version and the access log's
 * size and root (base64), then the signed snapshot (`encodeSignedSnapshot`) in base64, which
 * anyone checks with the trust key.
 */
export function statement(held: HeldSnapshot): string {
  const { version, accessLogSize, accessLogRoot } = held.snapshot;
  const root = Buffer.from(accessLogRoot).toString('base64');
  const signed = Buffer.from(encodeSignedSnapshot(held.signed)).toString('base64');
  return `vitrine trust snapshot ${version}: access log ${accessLogSize} ${root}\n${signed}\n`;
}
