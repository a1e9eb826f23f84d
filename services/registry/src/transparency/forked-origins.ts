import { VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';

/**
 * The origins whose logs this center found forked or rolled back and has not been told to
 * trust again: their events are refused until an operator resumes them. Read from the kept
 * evidence once, then kept in step by the witness (which adds) and by resuming (which
 * removes); the evidence itself stays, resumed or not.
 */
export class ForkedOrigins {
  #origins: Promise<Set<string>> | undefined;

  constructor(private readonly db: Kysely<RegistryDatabase>) {}

  /** The origins refused now. */
  async current(): Promise<ReadonlySet<string>> {
    this.#origins ??= this.#load();
    return this.#origins;
  }

  /** Refuses `origin`'s events from now on (its evidence is already kept). */
  async add(origin: string): Promise<void> {
    (await this.#mutable()).add(origin);
  }

  /**
   * Takes `origin`'s events again: marks its evidence resumed by `by` (the evidence stays).
   * Refused with FAILED_PRECONDITION when nothing was held against it.
   */
  async resume(origin: string, by: string): Promise<number> {
    const resumed = await this.db
      .updateTable('log_evidence')
      .set({ resumed_at: new Date(), resumed_by: by })
      .where('origin', '=', origin)
      .where('resumed_at', 'is', null)
      .executeTakeFirst();
    const count = Number(resumed.numUpdatedRows);
    if (count === 0) {
      throw new VitrineError('failed_precondition', `no evidence is held against ${origin}'s log`);
    }
    (await this.#mutable()).delete(origin);
    return count;
  }

  async #mutable(): Promise<Set<string>> {
    this.#origins ??= this.#load();
    return this.#origins;
  }

  async #load(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('log_evidence')
      .select('origin')
      .distinct()
      .where('resumed_at', 'is', null)
      .where('kind', '!=', 'bad-proof')
      .execute();
    return new Set(rows.map((r) => r.origin));
  }
}
