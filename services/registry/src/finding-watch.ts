import { fromBinary } from '@bufbuild/protobuf';
import { type Finding, FindingSchema } from '@vitrine/proto/finding';
import type { Kysely } from 'kysely';
import type { LogChanges } from './log-changes.js';
import { findingChangesIn, lastFindingChange } from './queries/finding-changes.js';
import { type FindingFilter, listFindings } from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';
import type { WatchPositions } from './watch-position.js';

/** Finding changes read per query (each holds its finding): a slow client holds one page. */
const WATCH_PAGE = 64;

/** One message of a watch: a change to a finding the filter shows, or a heartbeat. */
export type WatchItem =
  | {
      readonly kind: 'change';
      readonly position: bigint;
      readonly change: 'created' | 'updated' | 'commented';
      readonly origin: string;
      readonly seq: bigint;
      readonly finding: Finding;
    }
  | { readonly kind: 'heartbeat'; readonly position: bigint };

/**
 * Streams finding changes in the order this center applied them (local positions, see
 * finding-changes.ts), from any origin, woken by each commit (LogChanges) rather than by
 * polling. The stream is pulled: the next page is read only once the transport has taken
 * the last message (Connect waits for the socket to drain), so a slow client holds at most
 * one page here, never a growing buffer.
 */
export class FindingWatch {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly changes: LogChanges,
    private readonly positions: WatchPositions,
    private readonly heartbeatMs: number,
  ) {}

  /**
   * Where a watch resumes: after the position of token `after` (INVALID_ARGUMENT for one
   * this center did not send, see WatchPositions), or, without one, after the last change
   * recorded here.
   */
  async from(after: string): Promise<bigint> {
    const last = await lastFindingChange(this.db);
    return after === '' ? last : this.positions.open('after', after, last);
  }

  /** The resume token of `position`. */
  token(position: bigint): string {
    return this.positions.seal(position);
  }

  /**
   * Every change after `after` to a finding `filter` shows, then each new one as it
   * commits, until `signal` aborts; status and severity are matched as the change left the
   * finding. A heartbeat carries the position reached when nothing was sent for
   * `heartbeatMs` (changes the filter hides move it too, so a resume skips them).
   */
  async *watch(
    after: bigint,
    filter: FindingFilter,
    signal: AbortSignal,
  ): AsyncGenerator<WatchItem> {
    let position = after;
    let sentAt = Date.now();
    const woken = this.changes.follow(signal);
    while (!signal.aborted) {
      const commit = woken.armed();
      // Every position up to the last one committed is settled (see finding-changes.ts).
      const upTo = await lastFindingChange(this.db);
      // Most commits (an AccessUsed record, a peer's artifact) change no finding.
      const page =
        upTo > position ? await findingChangesIn(this.db, position, upTo, WATCH_PAGE, filter) : [];
      const shown = await this.#shown(page, filter);
      for (const row of page) {
        position = row.position;
        if (!shown.has(row.finding_id)) continue;
        yield {
          kind: 'change',
          position,
          change: asChange(row.change),
          origin: row.origin,
          seq: row.seq,
          finding: fromBinary(FindingSchema, row.finding),
        };
        sentAt = Date.now();
      }
      if (page.length === WATCH_PAGE) continue;
      if (upTo > position) position = upTo;
      const beat = await untilOrTimeout(commit, sentAt + this.heartbeatMs - Date.now());
      if (beat && !signal.aborted) {
        yield { kind: 'heartbeat', position };
        sentAt = Date.now();
      }
    }
  }

  /** The findings of `page` the caller's scope and the product filter show. */
  async #shown(
    page: readonly { finding_id: string }[],
    filter: FindingFilter,
  ): Promise<Set<string>> {
    const ids = [...new Set(page.map((row) => row.finding_id))];
    if (ids.length === 0) return new Set();
    const { within, product } = filter;
    const rows = await listFindings(
      this.db,
      { ids, ...(within ? { within } : {}), ...(product ? { product } : {}) },
      ids.length,
    );
    return new Set(rows.map((row) => row.id));
  }
}

function asChange(word: string): 'created' | 'updated' | 'commented' {
  if (word === 'created' || word === 'updated' || word === 'commented') return word;
  throw new Error(`unknown finding change ${word}`);
}

/** Resolves false when `event` settles first, true after `ms` otherwise. */
async function untilOrTimeout(event: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), Math.max(0, ms));
  });
  try {
    return await Promise.race([event.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
