import { type Timestamp, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type Client, createClient } from '@connectrpc/connect';
import {
  ACCESS_AUDIENCE,
  callAuthInterceptor,
  TokenKeyring,
  verifyTrustSnapshot,
} from '@vitrine/credentials';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import { AccessService, type Partner } from '@vitrine/proto/access';
import { createGrpcClient, createGrpcClientTransport, createLogger } from '@vitrine/rpc';
import { type TempDir, type TestBackend, type TestDatabase, tempDir } from '@vitrine/testing';
import { type AccessConfigInput, NEWCOMER, type RunningAccess, startAccess } from '../src/index.js';

export type AccessClient = Client<typeof AccessService>;

/** Operator accounts of the test service, by role. */
export const OPERATORS = {
  ops: ['operator'],
  alice: ['approver'],
  bob: ['approver'],
  carol: ['approver'],
  sec: ['security'],
  root: ['operator', 'approver', 'security'],
} as const;
export type OperatorName = keyof typeof OPERATORS;

/**
 * Policies of the test service: EU needs two approvers and caps at 72 h for source and
 * update; US one approver, 720 h, every kind; APAC rules only.
 */
export const JURISDICTIONS = {
  EU: { centers: ['europe'], maxLifetimeHours: 72, kinds: ['source', 'update'], approvals: 2 },
  US: {
    centers: ['us', 'us-east'],
    maxLifetimeHours: 720,
    kinds: ['source', 'update', 'rules'],
    approvals: 1,
  },
  APAC: { centers: ['asia'], maxLifetimeHours: 24, kinds: ['rules'], approvals: 1 },
} as const;

/** An access service on a real socket over a throw-away database, with signed-in clients. */
export interface TestAccess {
  access: RunningAccess;
  readonly dataDir: string;
  /** A client signing as the operator account `name`. */
  operator(name: OperatorName): AccessClient;
  /** The key of the operator account `name`. */
  operatorKey(name: OperatorName): SigningKeyPair;
  /** A client that signs nothing. */
  readonly anonymous: AccessClient;
  /** A client signing as `principal` with `key` (for impersonation tests). */
  signedAs(principal: string, key: SigningKeyPair): AccessClient;
  /** The keys the current trust snapshot names (signature checked), as centers would load them. */
  trustedKeyring(): Promise<TokenKeyring>;
  /** Registers a new partner with a fresh key; returns it and a client signing as it. */
  registerPartner(
    organisation: string,
    jurisdictions: readonly string[],
  ): Promise<{ partner: Partner; key: SigningKeyPair; client: AccessClient }>;
  /** Stops the service and starts it again on the same database and folder. */
  restart(changes?: Partial<AccessConfigInput>): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Starts the access service with the test operators and policies on `backend`. With `now`,
 * the service runs on that clock and the harness's clients date their proofs by it.
 */
export async function startTestAccess(
  backend: TestBackend,
  overrides: Partial<AccessConfigInput> = {},
  clock: { now?: () => Date } = {},
): Promise<TestAccess> {
  const database: TestDatabase = await backend.open();
  const dir: TempDir = await tempDir('vitrine-access-');
  const keys = new Map<OperatorName, SigningKeyPair>();
  for (const name of Object.keys(OPERATORS) as OperatorName[]) {
    keys.set(name, await generateSigningKeyPair());
  }
  const config: AccessConfigInput = {
    listen: { host: '127.0.0.1', port: 0 },
    dataDir: dir.path,
    ...(database.url ? { databaseUrl: database.url } : {}),
    operators: [...keys].map(([name, key]) => ({
      name,
      roles: [...OPERATORS[name]],
      publicKey: Buffer.from(key.publicKey).toString('base64'),
    })),
    jurisdictions: structuredClone(JURISDICTIONS) as unknown as AccessConfigInput['jurisdictions'],
    ...overrides,
  };
  const logger = createLogger('test-access', { VITRINE_LOG_LEVEL: 'silent' });
  const now = clock.now ?? (() => new Date());
  const access = await startAccess(config, { logger, now });
  const url = access.url;
  const signedAs = (principal: string, key: SigningKeyPair): AccessClient =>
    createClient(
      AccessService,
      createGrpcClientTransport(url, {
        interceptors: [
          callAuthInterceptor(
            () => ({ key, principal }),
            ACCESS_AUDIENCE,
            () => now().getTime(),
          ),
        ],
      }),
    );
  const harness: TestAccess = {
    access,
    dataDir: dir.path,
    operator: (name) => signedAs(`operator:${name}`, keys.get(name) as SigningKeyPair),
    operatorKey: (name) => keys.get(name) as SigningKeyPair,
    anonymous: createGrpcClient(AccessService, url),
    signedAs,
    async trustedKeyring() {
      const stream = harness.anonymous.watchTrust({})[Symbol.asyncIterator]();
      const first = await stream.next();
      await stream.return?.();
      if (first.done) throw new Error('WatchTrust sent nothing');
      const snapshot = await verifyTrustSnapshot(first.value, harness.access.trustKey);
      const keyring = new TokenKeyring();
      await keyring.set(snapshot.keys.map((k) => k.publicKey));
      return keyring;
    },
    async registerPartner(organisation, jurisdictions) {
      const key = await generateSigningKeyPair();
      const { partner } = await signedAs(NEWCOMER, key).registerPartner({
        organisation,
        jurisdictions: [...jurisdictions],
        contact: `security@${organisation.toLowerCase().replaceAll(' ', '-')}.example`,
        publicKey: key.publicKey,
      });
      if (!partner) throw new Error('registration returned no partner');
      return { partner, key, client: signedAs(`partner:${partner.id}`, key) };
    },
    async restart(changes = {}) {
      const port = harness.access.port;
      await harness.access.stop();
      harness.access = await startAccess(
        { ...config, ...changes, listen: { host: '127.0.0.1', port } },
        { logger, now },
      );
    },
    async cleanup() {
      await harness.access.stop();
      await database.cleanup();
      await dir.cleanup();
    },
  };
  return harness;
}

/** A time `hours` from now, as the wire wants it. */
export function hoursFromNow(hours: number): Timestamp {
  return timestampFromDate(new Date(Date.now() + hours * 3_600_000));
}
