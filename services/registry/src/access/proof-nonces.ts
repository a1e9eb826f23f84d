import type { ReplayGuard } from '@vitrine/credentials';
import type { Logger } from '@vitrine/rpc';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

/** How often a process deletes the nonces whose proofs can no longer be fresh. */
const PRUNE_EVERY_MS = 10_000;

/**
 * The replay guard of a center: accepted proofs' nonces in the center's database, so every
 * registry process sharing it refuses a proof another one accepted. Admitting a nonce is one
 * statement — an insert that, on the primary key, only overwrites a row already expired —
 * and expired rows are pruned in the background at most every few seconds per process.
 */
export class ProofNonces implements ReplayGuard {
  #nextPrune = 0;
  #pruning: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly logger: Logger,
  ) {}

  async admit(key: Uint8Array, until: number, now: number): Promise<boolean> {
    if (now >= this.#nextPrune) this.#prune(now);
    const admitted = await this.db
      .insertInto('proof_nonces')
      .values({ key, expires_at: BigInt(until) })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ expires_at: BigInt(until) })
          .where('proof_nonces.expires_at', '<=', BigInt(now)),
      )
      .returning('key')
      .executeTakeFirst();
    return admitted !== undefined;
  }

  /** Resolves once a prune in progress has finished. */
  settled(): Promise<void> {
    return this.#pruning;
  }

  #prune(now: number): void {
    this.#nextPrune = now + PRUNE_EVERY_MS;
    this.#pruning = this.#pruning.then(async () => {
      try {
        await this.db.deleteFrom('proof_nonces').where('expires_at', '<=', BigInt(now)).execute();
      } catch (err) {
        this.logger.warn({ err }, 'pruning expired proof nonces failed');
      }
    });
  }
}
