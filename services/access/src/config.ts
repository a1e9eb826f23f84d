import { embeddedDatabaseConfig, healthConfig } from '@vitrine/config';
import { ARTIFACT_KINDS, ROLES } from '@vitrine/credentials';
import { z } from 'zod';

/** Center ids as centers name themselves (`europe`): what a credential's `aud` lists. */
const CENTER_ID = /^[a-z][a-z0-9-]{0,31}$/;
/** Jurisdiction codes are upper-case (EU, US, APAC). */
export const JURISDICTION = /^[A-Z][A-Z0-9_-]{1,15}$/;
/** Operator account names: what `operator:<name>` principals and decisions show. */
export const OPERATOR_NAME = /^[a-z][a-z0-9._-]{0,63}$/;

/** A federation name fit for a log origin and a note key name: no spaces, slashes or +. */
const FEDERATION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A standard-base64 Ed25519 public key (32 bytes). */
/** How far a caller's proof time may be from this service's clock unless configured, in seconds. */
export const DEFAULT_PROOF_SKEW_SECONDS = 60;

const publicKey = z
  .string()
  .refine((text) => Buffer.from(text, 'base64').length === 32, 'a base64 Ed25519 public key');

/**
 * An operator account. Accounts live in the config, not in a self-service flow: the
 * people who run centers, approve requests and revoke credentials are known in advance.
 * The service upserts them at every start and drops accounts no longer listed.
 */
const operatorSchema = z
  .object({
    name: z.string().regex(OPERATOR_NAME, 'lower-case letters, digits and . _ -'),
    /** `operator` runs centers and rotates keys, `approver` decides requests, `security` revokes. */
    roles: z.array(z.enum(ROLES)).min(1),
    /** The account's Ed25519 public key (base64); the operator keeps the secret half. */
    publicKey,
  })
  .strict();

/**
 * What partners of one jurisdiction may be granted. A request outside it is refused with
 * the limit it broke; a credential never outlives `maxLifetimeHours` from its approval.
 */
const policySchema = z
  .object({
    /** The centers of the jurisdiction: a credential's audience. */
    centers: z.array(z.string().regex(CENTER_ID)).min(1),
    maxLifetimeHours: z
      .number()
      .positive()
      .max(24 * 366),
    /** Artifact kinds a partner may be granted here. */
    kinds: z.array(z.enum(ARTIFACT_KINDS)).min(1),
    /** Distinct approvers a request needs (the requester is never one of them). */
    approvals: z.number().int().min(1).max(16),
  })
  .strict();

export type JurisdictionPolicy = z.infer<typeof policySchema>;
export type OperatorAccount = z.infer<typeof operatorSchema>;

/**
 * A center whose witness cosigns the access log's checkpoints: its id, its registry's
 * address (the witness takes checkpoints at `/log/add-checkpoint` there) and its signing
 * key, as the federation manifest lists them; its witness key is derived from that key.
 */
const witnessSchema = z
  .object({
    id: z.string().regex(CENTER_ID),
    url: z.url({ protocol: /^https?$/ }),
    publicKey,
  })
  .strict();

/** The access log's settings when none are given. */
const LOG_DEFAULTS = {
  checkpointIntervalMs: 1_000,
  witnesses: [],
  witnessQuorum: 1,
  backoff: { initialMs: 1_000, maxMs: 30_000 },
};

/** The access service's settings. Parsed once at start; a bad setting is refused by name. */
export const accessConfigSchema = z
  .object({
    listen: z.object({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535),
    }),
    /** How often readiness (the database answers) is checked. */
    health: healthConfig,
    /** Keys (`keys/trust.key`, `keys/token-<n>.key`) and the embedded database live here. */
    dataDir: z.string().min(1),
    /** postgres://… to keep state on a PostgreSQL server instead of embedded PGlite. */
    databaseUrl: z.string().startsWith('postgres').optional(),
    /** The embedded database's settings (PGlite), when `databaseUrl` is not set. */
    embeddedDatabase: embeddedDatabaseConfig,
    /**
     * The federation's name, as its manifest gives it: the access log's origin is
     * `<federation>/access`, also the name of the key its checkpoints are signed with.
     */
    federation: z
      .string()
      .regex(FEDERATION, 'letters, digits, . _ and -, at most 64')
      .default('vitrine'),
    /**
     * The access log: at most one checkpoint per interval, signed when it grew, each sent to
     * every witness listed (the federation's centers) for its cosignature; final once
     * `witnessQuorum` distinct witnesses cosigned it.
     */
    log: z
      .object({
        checkpointIntervalMs: z.number().int().min(10).max(60_000).default(1_000),
        witnesses: z.array(witnessSchema).default([]),
        witnessQuorum: z.number().int().min(0).max(100).default(1),
        backoff: z
          .object({
            initialMs: z.number().int().positive().default(1_000),
            maxMs: z.number().int().positive().default(30_000),
          })
          .strict()
          .default(LOG_DEFAULTS.backoff),
      })
      .strict()
      .refine((l) => new Set(l.witnesses.map((w) => w.id)).size === l.witnesses.length, {
        path: ['witnesses'],
        message: 'witness ids must be unique',
      })
      .default(LOG_DEFAULTS),
    /**
     * The long-term key that signs trust snapshots, the access log's decisions and its
     * checkpoints; centers are configured with its public half.
     */
    trustKeyFile: z.string().min(1).optional(),
    operators: z.array(operatorSchema).default([]),
    /** Policy per jurisdiction code. */
    jurisdictions: z.record(z.string().regex(JURISDICTION), policySchema),
    /** Lifetime of the credentials operators get from IssueOperatorCredential. */
    operatorCredentialHours: z.number().positive().max(168).default(12),
    /** How far a caller's proof-of-possession time may be from this service's clock. */
    proofSkewSeconds: z.number().int().min(1).max(600).default(DEFAULT_PROOF_SKEW_SECONDS),
  })
  .strict()
  .refine((c) => new Set(c.operators.map((o) => o.name)).size === c.operators.length, {
    path: ['operators'],
    message: 'operator names must be unique',
  })
  .refine((c) => new Set(c.operators.map((o) => o.publicKey)).size === c.operators.length, {
    path: ['operators'],
    message: 'operator public keys must be unique: a key may hold one principal',
  });

export type AccessConfig = z.infer<typeof accessConfigSchema>;
export type AccessConfigInput = z.input<typeof accessConfigSchema>;
