import { z } from 'zod';

/**
 * Settings of a service's embedded database (PGlite), used when no `databaseUrl` is set.
 * `sharedBuffers` replaces the buffer pool of `PGLITE_SETTINGS` in @vitrine/storage (16 MB):
 * a smaller pool keeps less memory in every idle process but makes bulk writes slower and
 * less steady, so `vitrine dev` sets it for its demo federation and production keeps the
 * default (docs/embedded-footprint.md).
 */
export const embeddedDatabaseConfig = z
  .object({
    sharedBuffers: z
      .string()
      .regex(/^[1-9]\d*(MB|GB)$/, 'must be a size in MB or GB, such as 8MB')
      .optional(),
  })
  .strict()
  .default({});

/** The parsed `embeddedDatabase` setting of a service's config. */
export type EmbeddedDatabaseConfig = z.infer<typeof embeddedDatabaseConfig>;
