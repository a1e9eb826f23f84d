import { z } from 'zod';

/**
 * A sync service's settings: which center it speaks for, where it listens, and the peers
 * it replicates with. Parsed once at start; a bad setting is refused there, by name.
 */
export const syncConfigSchema = z
  .object({
    center: z.object({
      id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lower-case letters, digits and -'),
      jurisdiction: z.string().regex(/^[A-Z][A-Z0-9_-]{1,15}$/, 'an upper-case code such as EU'),
    }),
    listen: z.object({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535),
    }),
    peers: z.array(z.object({ id: z.string().min(1), url: z.url() }).strict()).default([]),
  })
  .strict();

export type SyncConfig = z.infer<typeof syncConfigSchema>;
export type SyncConfigInput = z.input<typeof syncConfigSchema>;
