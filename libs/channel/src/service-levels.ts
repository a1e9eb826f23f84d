import { z } from 'zod';

/** The severities a service level gives days to fix, strictest first. */
export const SLA_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type SlaSeverity = (typeof SLA_SEVERITIES)[number];

/** The most days to fix a policy may give: ten years; more is a typo, not a policy. */
export const MAX_DAYS_TO_FIX = 3650;

/** Days to fix per severity; null: no service level for that severity. */
export type DaysToFix = Readonly<Record<SlaSeverity, number | null>>;

/** Days to fix for some severities; a severity left out (or undefined) is not set. */
export type SomeDaysToFix = { readonly [S in SlaSeverity]?: number | null | undefined };

/**
 * The federation's service levels, resolved: days to fix per severity federation-wide,
 * and the jurisdictions that set other days for some severities. Every center reads it
 * from the one signed manifest, so every center derives the same due dates.
 */
export interface ServiceLevelPolicy {
  readonly daysToFix: DaysToFix;
  /** Per jurisdiction code, the days it sets; a severity it leaves out keeps `daysToFix`. */
  readonly jurisdictions: Readonly<Record<string, SomeDaysToFix>>;
}

/**
 * Days to fix when the manifest sets none: critical 7, high 30, medium 90, low 180, info
 * none (the common disclosure windows: a week for what is exploited, 90 days for the
 * ordinary case, informational findings have no deadline).
 */
export const DEFAULT_SERVICE_LEVELS: ServiceLevelPolicy = Object.freeze({
  daysToFix: Object.freeze({ critical: 7, high: 30, medium: 90, low: 180, info: null }),
  jurisdictions: Object.freeze({}),
});

const days = z
  .number({ error: `whole days from 1 to ${MAX_DAYS_TO_FIX}, or null for none` })
  .int({ error: `whole days from 1 to ${MAX_DAYS_TO_FIX}, or null for none` })
  .min(1, { error: `whole days from 1 to ${MAX_DAYS_TO_FIX}, or null for none` })
  .max(MAX_DAYS_TO_FIX, { error: `at most ${MAX_DAYS_TO_FIX} days (ten years), or null for none` })
  .nullable();

const daysBySeverity = z
  .object({
    critical: days.optional(),
    high: days.optional(),
    medium: days.optional(),
    low: days.optional(),
    info: days.optional(),
  })
  .strict();

/**
 * The manifest's optional `serviceLevels` section: `daysToFix` overrides the defaults
 * severity by severity; `jurisdictions` maps a jurisdiction code to the days it sets.
 */
export const serviceLevelsSchema = z
  .object({
    daysToFix: daysBySeverity.optional(),
    jurisdictions: z
      .record(z.string().regex(/^[A-Z][A-Z0-9_-]{1,15}$/), daysBySeverity, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? 'not a jurisdiction code (upper-case, such as EU)'
            : undefined,
      })
      .optional(),
  })
  .strict();

export type ServiceLevelsDocument = z.infer<typeof serviceLevelsSchema>;

/** The policy a manifest's section (or its absence) stands for, defaults filled in, frozen. */
export function resolveServiceLevels(
  section: ServiceLevelsDocument | undefined,
): ServiceLevelPolicy {
  const jurisdictions = Object.entries(section?.jurisdictions ?? {}).map(
    ([code, set]) => [code, Object.freeze({ ...set })] as const,
  );
  return Object.freeze({
    daysToFix: Object.freeze(withDefaults(section?.daysToFix)),
    jurisdictions: Object.freeze(Object.fromEntries(jurisdictions)),
  });
}

/** Each severity's days from `set`, else the default's. */
function withDefaults(
  set: Partial<Record<SlaSeverity, number | null | undefined>> = {},
): DaysToFix {
  const entries = SLA_SEVERITIES.map((s) => [
    s,
    set[s] ?? (s in set ? null : DEFAULT_SERVICE_LEVELS.daysToFix[s]),
  ]);
  return Object.fromEntries(entries) as Record<SlaSeverity, number | null>;
}
