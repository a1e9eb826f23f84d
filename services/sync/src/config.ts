import { z } from 'zod';

/** How often a center checks every peer's latest checkpoint unless configured. */
export const DEFAULT_MONITOR_INTERVAL_MS = 5_000;

/**
 * A sync service's settings: which center it speaks for, where it listens, the signed
 * federation manifest that names its peers, and the keys it proves its identity with.
 * Parsed once at start; a bad setting is refused there, by name.
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
    /** The signed federation manifest (`{ manifest, signature }` JSON). */
    manifestFile: z.string().min(1),
    /** The federation root key (base64 Ed25519 public key) the manifest must be signed by. */
    federationRootKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of a 32-byte key'),
    /** This center's Ed25519 key (the registry's), which the manifest must list. */
    keyFile: z.string().min(1),
    /**
     * Mutual TLS under the end-to-end channel, for centers on different machines. The sync
     * server then speaks TLS only and requires a client certificate that chains to `caFile`;
     * every peer is dialled over https (whatever scheme its manifest endpoint names),
     * presenting this center's certificate and accepting only a server certificate that
     * chains to `caFile` and names the host of the peer's manifest endpoint. Every center
     * of a federation must then run with TLS. Without it, sync listens and dials only on
     * loopback (`127.0.0.0/8`, `::1`, `localhost`), as `vitrine dev` does.
     */
    tls: z
      .object({
        /** This center's certificate (PEM, chain allowed), served to peers and presented to them. */
        certFile: z.string().min(1),
        /** The private key of `certFile` (PEM); not the center's Ed25519 `keyFile`. */
        keyFile: z.string().min(1),
        /** The CA bundle (PEM) every peer's certificate must chain to. */
        caFile: z.string().min(1),
      })
      .strict()
      .optional(),
    /** How the center watches its peers' logs and has its own witnessed. */
    log: z
      .object({
        monitorIntervalMs: z
          .number()
          .int()
          .min(100)
          .max(3_600_000)
          .default(DEFAULT_MONITOR_INTERVAL_MS),
        /**
         * Whether the center asks its peers' witnesses to cosign each checkpoint it signs
         * (on by default; off, its checkpoints are served without cosignatures, never final).
         */
        gatherCosignatures: z.boolean().default(true),
      })
      .strict()
      .default({ monitorIntervalMs: DEFAULT_MONITOR_INTERVAL_MS, gatherCosignatures: true }),
    /** Reconnect back-off after a failed or broken subscription, in milliseconds. */
    backoff: z
      .object({
        initialMs: z.number().int().positive().default(250),
        maxMs: z.number().int().positive().default(15_000),
      })
      .default({ initialMs: 250, maxMs: 15_000 }),
  })
  .strict();

export type SyncConfig = z.infer<typeof syncConfigSchema>;
export type SyncConfigInput = z.input<typeof syncConfigSchema>;
