import {
  DEFAULT_SERVICE_LEVELS,
  type ServiceLevelPolicy,
  type SlaSeverity,
} from '@vitrine/channel';
import { hlcToDate, packHlc } from '@vitrine/events';
import type { SlaWord } from '@vitrine/proto/enum-words';

const DAY_MS = 86_400_000;

/** Open statuses a service level runs in (after triage). */
const RUNNING = new Set(['triaged', 'in_progress']);
/** Statuses a fix has reached: the service level was met or breached. */
const FIXED = new Set(['fixed', 'verified', 'disclosed']);

/** The replicated fields a finding's service level is derived from. */
export interface ServiceLevelFacts {
  readonly status: string;
  readonly severity: string;
  readonly residency: readonly string[];
  readonly created_hlc: bigint;
  readonly triaged_hlc: bigint | null;
  readonly fixed_hlc: bigint | null;
}

/** A finding's service level at one moment. */
export interface ServiceLevel {
  readonly state: SlaWord;
  /** The days to fix its severity; null when the policy gives none. */
  readonly daysToFix: number | null;
  readonly triagedAt?: Date;
  /** Set while it is open and triaged with days to fix. */
  readonly dueAt?: Date;
}

/** One group of open findings with the triage clock before which they are overdue. */
export interface OverdueCutoff {
  readonly severity: string;
  readonly residency: readonly string[];
  readonly triagedBefore: bigint;
}

/**
 * The federation's service levels applied to findings. Everything is derived from
 * replicated fields (status, severity, residency, the first triage's and the latest fix's
 * HLC) and the policy of the signed manifest, so every center shows the same due date:
 * - due date: the first triage plus the days to fix the current severity, so a change of
 *   severity moves it;
 * - where the residency spans several jurisdictions, the fewest days among them apply (a
 *   finding held everywhere: among every jurisdiction of the federation); a jurisdiction
 *   the policy does not name keeps the federation-wide days; no days: no service level;
 * - open: `overdue` past the due date, `due_soon` in its last quarter, else `on_track`;
 *   fixed (verified, disclosed): `met` when the latest fix came by the due date, else
 *   `breached`; never triaged, rejected or duplicate: `none`.
 * A finding triaged before these clocks were kept counts from its creation.
 */
export class ServiceLevels {
  readonly #everywhere: readonly string[];

  constructor(
    private readonly policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
    jurisdictions: readonly string[] = [],
  ) {
    this.#everywhere = [...new Set([...jurisdictions, ...Object.keys(policy.jurisdictions)])];
  }

  /** The days to fix `severity` where `residency` holds it (strictest); null for none. */
  daysToFix(severity: string, residency: readonly string[]): number | null {
    if (!isSlaSeverity(severity)) return null;
    const places = residency.length > 0 ? residency : this.#everywhere;
    const days = places.map((j) => {
      const set = this.policy.jurisdictions[j]?.[severity];
      return set === undefined ? this.policy.daysToFix[severity] : set;
    });
    if (places.length === 0) days.push(this.policy.daysToFix[severity]);
    const finite = days.filter((d): d is number => d !== null);
    return finite.length > 0 ? Math.min(...finite) : null;
  }

  /** The service level of a finding at `nowMs`. */
  of(row: ServiceLevelFacts, nowMs: number): ServiceLevel {
    const daysToFix = this.daysToFix(row.severity, row.residency);
    const triaged = triageClock(row);
    if (triaged === null) return { state: 'none', daysToFix };
    const triagedAt = hlcToDate(triaged);
    if (daysToFix === null) return { state: 'none', daysToFix, triagedAt };
    const windowMs = daysToFix * DAY_MS;
    const dueMs = triagedAt.getTime() + windowMs;
    if (FIXED.has(row.status)) {
      if (row.fixed_hlc === null) return { state: 'none', daysToFix, triagedAt };
      const met = hlcToDate(row.fixed_hlc).getTime() <= dueMs;
      return { state: met ? 'met' : 'breached', daysToFix, triagedAt };
    }
    if (!RUNNING.has(row.status)) return { state: 'none', daysToFix, triagedAt };
    const state =
      nowMs > dueMs ? 'overdue' : dueMs - nowMs <= windowMs / 4 ? 'due_soon' : 'on_track';
    return { state, daysToFix, triagedAt, dueAt: new Date(dueMs) };
  }

  /**
   * For each group of open findings (severity, residency) held here, the triage clock
   * before which one is overdue at `nowMs`; groups without days to fix have none.
   */
  overdueCutoffs(
    groups: readonly { severity: string; residency: readonly string[] }[],
    nowMs: number,
  ): OverdueCutoff[] {
    return groups.flatMap(({ severity, residency }) => {
      const days = this.daysToFix(severity, residency);
      if (days === null) return [];
      return [{ severity, residency, triagedBefore: packHlc(nowMs - days * DAY_MS, 0) }];
    });
  }
}

/** The statuses in which an open finding's service level runs, for queries. */
export const RUNNING_STATUSES: readonly string[] = [...RUNNING];

/** The clock a finding's service level counts from; null while it was never triaged. */
function triageClock(row: ServiceLevelFacts): bigint | null {
  if (row.triaged_hlc !== null) return row.triaged_hlc;
  return row.status === 'new' ? null : row.created_hlc;
}

function isSlaSeverity(word: string): word is SlaSeverity {
  return word in DEFAULT_SERVICE_LEVELS.daysToFix;
}
