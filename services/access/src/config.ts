import { z } from 'zod';

/** The access service's settings. Parsed once at start; a bad setting is refused by name. */
export const accessConfigSchema = z
  .object({
    listen: z.object({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535),
    }),
    /** Token signing keys live below this folder. */
    dataDir: z.string().min(1),
  })
  .strict();

export type AccessConfig = z.infer<typeof accessConfigSchema>;
export type AccessConfigInput = z.input<typeof accessConfigSchema>;
