import { embeddedDatabaseConfig, healthConfig } from '@vitrine/config';
import { z } from 'zod';

/** Center ids are short lower-case names: they appear in finding ids and URLs. */
export const CENTER_ID = /^[a-z][a-z0-9-]{0,31}$/;
/** Jurisdiction codes are upper-case (EU, US, APAC). */
export const JURISDICTION = /^[A-Z][A-Z0-9_-]{1,15}$/;

/** Clock skew tolerated on a credential's `nbf`/`exp` unless configured, in seconds. */
export const DEFAULT_SKEW_SECONDS = 30;

const listen = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535),
});

/**
 * The access service a center takes its trust from: `url` of its WatchTrust stream and
 * `trustKey`, the base64 Ed25519 public key its snapshots must be signed by. Every registry
 * call is then checked against the caller's credential.
 */
const checkedAccess = z
  .object({
    url: z.url(),
    trustKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of a 32-byte key'),
    /** Clock skew tolerated on a credential's validity window, in seconds. */
    skewSeconds: z.number().int().min(0).max(600).default(DEFAULT_SKEW_SECONDS),
    /**
     * How long a center that holds no trust snapshot waits at start for its first one
     * before it serves (refusing calls, NOT_SERVING), in milliseconds.
     */
    firstSnapshotWaitMs: z.number().int().min(0).max(600_000).default(10_000),
    /** Reconnect back-off of the trust stream, in milliseconds. */
    backoff: z
      .object({
        initialMs: z.number().int().positive().default(250),
        maxMs: z.number().int().positive().default(5_000),
      })
      .default({ initialMs: 250, maxMs: 5_000 }),
  })
  .strict();

/**
 * `{ "mode": "open" }`: no call is checked, every caller acts as the local operator. Only
 * for measuring what enforcement costs; a registry without an `access` block refuses to start.
 */
const openAccess = z.object({ mode: z.literal('open') }).strict();

/**
 * Where a center keeps artifact bytes. `local` (default): pack files below `dataDir/chunks`.
 * `s3`: objects in a bucket of an S3-compatible service, which every registry process of
 * the center shares — with one PostgreSQL database (`databaseUrl`), processes of one center
 * then act as one. The access key comes from `credentialsFile` (JSON, mode 0600) or the
 * environment (VITRINE_S3_ACCESS_KEY_ID, VITRINE_S3_SECRET_ACCESS_KEY); it is never logged.
 */
const chunkStore = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('local') }).strict(),
    z
      .object({
        kind: z.literal('s3'),
        endpoint: z.url(),
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
        region: z.string().min(1).default('us-east-1'),
        /** Prepended to every object key, so a bucket may hold more than chunks. */
        prefix: z
          .string()
          .regex(/^([A-Za-z0-9._-]+\/)*$/, 'empty, or folder names each ending in /')
          .default('chunks/'),
        /** `http://host/bucket/key` addresses (MinIO, Ceph) rather than virtual hosts. */
        pathStyle: z.boolean().default(true),
        credentialsFile: z.string().min(1).optional(),
        /** Requests to the service in flight at once, per process. */
        maxInFlight: z.number().int().min(1).max(256).default(16),
      })
      .strict(),
  ])
  .default({ kind: 'local' });

/**
 * A registry's settings, as read from its config file (`vitrine serve registry`) or built
 * by `vitrine dev`. Parsed once at start; a bad setting is refused there, by name.
 */
/** A federation name fit for a log origin and a note key name: no spaces, slashes or +. */
const FEDERATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const registryConfigSchema = z
  .object({
    center: z.object({
      id: z.string().regex(CENTER_ID, 'lower-case letters, digits and -'),
      jurisdiction: z.string().regex(JURISDICTION, 'an upper-case code such as EU'),
    }),
    /**
     * The federation's name, as its manifest gives it: with the center id, the origin of the
     * center's transparency log (`<federation>/<center>`) and the name of its checkpoint key.
     */
    federation: z
      .string()
      .regex(FEDERATION, 'letters, digits, . _ and -, at most 64')
      .default('vitrine'),
    /** The center's transparency log: at most one checkpoint per interval, signed when it grew. */
    log: z
      .object({
        checkpointIntervalMs: z.number().int().min(10).max(60_000).default(1_000),
        /**
         * Cosignatures by other centers' witnesses a checkpoint needs to be final: 1 by
         * default (any other center); 2 is recommended when every center is up.
         */
        witnessQuorum: z.number().int().min(0).max(100).default(1),
      })
      .strict()
      .default({ checkpointIntervalMs: 1_000, witnessQuorum: 1 }),
    /** Every jurisdiction of the federation: the codes an artifact's residency may name. */
    jurisdictions: z.array(z.string().regex(JURISDICTION)).min(1),
    listen,
    /** How often readiness (database, trust snapshot, chunk store) is checked. */
    health: healthConfig,
    /** Chunk store (unless `chunkStore` names a bucket), embedded database and keys live below this folder. */
    dataDir: z.string().min(1),
    chunkStore,
    /** postgres://… to keep state on a PostgreSQL server instead of embedded PGlite. */
    databaseUrl: z.string().startsWith('postgres').optional(),
    /** The embedded database's settings (PGlite), when `databaseUrl` is not set. */
    embeddedDatabase: embeddedDatabaseConfig,
    /** Ed25519 key the center signs events and manifests with; created on first start. */
    keyFile: z.string().min(1).optional(),
    maxArtifactBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 ** 3),
    /** Largest SARIF file ImportFindings takes, in bytes. */
    maxImportBytes: z
      .number()
      .int()
      .positive()
      .default(512 * 1024 * 1024),
    access: z.union([checkedAccess, openAccess]),
    /** Largest request message in bytes. */
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
  })
  .strict()
  .refine((c) => c.jurisdictions.includes(c.center.jurisdiction), {
    path: ['center', 'jurisdiction'],
    message: 'must be one of jurisdictions',
  });

export type RegistryConfig = z.infer<typeof registryConfigSchema>;
export type RegistryConfigInput = z.input<typeof registryConfigSchema>;
