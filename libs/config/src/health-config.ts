import { z } from 'zod';

/**
 * How often a service checks what it needs to take calls (its readiness, reported through
 * grpc.health.v1), and how long one check may take before it counts as failed.
 */
export const healthConfig = z
  .object({
    checkIntervalMs: z.number().int().min(50).max(300_000).default(5_000),
    checkTimeoutMs: z.number().int().min(50).max(60_000).default(5_000),
  })
  .strict()
  .default({ checkIntervalMs: 5_000, checkTimeoutMs: 5_000 });

/** The parsed `health` setting of a service's config. */
export type HealthConfig = z.infer<typeof healthConfig>;
