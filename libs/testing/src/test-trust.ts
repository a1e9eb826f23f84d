import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { Interceptor } from '@connectrpc/connect';
import {
  ACTIONS,
  ANY_JURISDICTION,
  ARTIFACT_KINDS,
  type CallAuth,
  type Credential,
  callAuthInterceptor,
  issueCredential,
  keyIdOf,
  ROLES,
  type Scope,
  signTrustSnapshot,
  type TokenSigner,
} from '@vitrine/credentials';
import { generateSigningKeyPair, type SigningKeyPair } from '@vitrine/crypto';
import {
  AccessService,
  type TokenKey,
  TokenKeySchema,
  TrustSnapshotSchema,
  type WatchTrustResponse,
} from '@vitrine/proto/access';
import { createLogger, type RunningServer, startServer } from '@vitrine/rpc';

/** A caller's key and credential, ready for `callAuthInterceptor`. */
export type TestCaller = CallAuth & { readonly credential: string; readonly id: string };

/** What a partner credential issued by `TestTrust.partner` grants. */
export interface TestGrant {
  readonly partner: string;
  readonly jurisdiction: string;
  readonly audience: readonly string[];
  readonly scope?: Partial<Scope>;
  readonly notBefore?: Date;
  readonly expiresAt?: Date;
  /** Sign with this key instead of the published token key. */
  readonly signer?: TokenSigner;
  /** Bind to this holder key instead of a fresh one. */
  readonly holder?: SigningKeyPair;
}

/**
 * The access side of a test federation: a trust key, a token key, credentials signed with
 * it, and a real WatchTrust server that publishes signed snapshots to centers. Centers under
 * test verify everything exactly as they would against the access service; this stands in
 * only for the service that issues and publishes.
 */
export interface TestTrust {
  /** WatchTrust endpoint, for a center's `access.url`. */
  readonly url: string;
  /** base64 trust public key, for a center's `access.trustKey`. */
  readonly trustKey: string;
  readonly tokenSigner: TokenSigner;
  /** An operator (roles operator, approver, security) accepted at every center. */
  readonly operator: TestCaller;
  /** A client interceptor that signs calls as `operator` for center `center`. */
  operatorAuth(center: string): Interceptor;
  /** The current signed snapshot, for seeding a center's trust file. */
  signed(): WatchTrustResponse;
  /** Issues a partner credential with a fresh holder key. */
  partner(grant: TestGrant): Promise<TestCaller>;
  /** Publishes a new snapshot version with this credential id revoked; returns the version. */
  revoke(credentialId: string): Promise<bigint>;
  /** Publishes a new snapshot version with these token keys (revoked keys leave it). */
  setKeys(keys: readonly SigningKeyPair[]): Promise<bigint>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/** Starts a test trust publisher for the given centers and issues the operator credential. */
export async function startTestTrust(centers: readonly string[]): Promise<TestTrust> {
  const trustKey = await generateSigningKeyPair();
  const tokenKey = await generateSigningKeyPair();
  const tokenSigner: TokenSigner = { key: tokenKey, keyId: await keyIdOf(tokenKey.publicKey) };
  let version = 1n;
  let keys: TokenKey[] = [await tokenKeyOf(tokenKey)];
  const revokedCredentialIds: string[] = [];
  const snapshot = () =>
    signTrustSnapshot(
      create(TrustSnapshotSchema, { version, keys, revokedCredentialIds, at: timestampNow() }),
      trustKey,
    );
  let current = await snapshot();
  const watchers = new Set<() => void>();
  const publish = async () => {
    version++;
    current = await snapshot();
    for (const wake of watchers) wake();
    return version;
  };
  const server = await startTrustServer(() => current, watchers);
  const issue = async (
    credential: Omit<Credential, 'holderKey'>,
    signer = tokenSigner,
    holder?: SigningKeyPair,
  ) => {
    const key = holder ?? (await generateSigningKeyPair());
    const token = await issueCredential({ ...credential, holderKey: key.publicKey }, signer);
    return { key, credential: token, id: credential.id };
  };
  const now = Date.now();
  const operator = await issue({
    id: `op-${randomUUID()}`,
    subject: { kind: 'operator', id: 'test' },
    audience: centers,
    jurisdiction: ANY_JURISDICTION,
    scope: { kinds: [...ARTIFACT_KINDS], products: [], artifacts: [], actions: [...ACTIONS] },
    roles: [...ROLES],
    issuedAt: new Date(now),
    notBefore: new Date(now),
    expiresAt: new Date(now + 24 * HOUR),
  });
  return {
    url: server.url,
    trustKey: Buffer.from(trustKey.publicKey).toString('base64'),
    tokenSigner,
    operator,
    operatorAuth: (center) => callAuthInterceptor(() => operator, center),
    signed: () => current,
    async partner(grant) {
      const at = new Date();
      return issue(
        {
          id: `cred-${randomUUID()}`,
          subject: { kind: 'partner', id: grant.partner },
          audience: grant.audience,
          jurisdiction: grant.jurisdiction,
          scope: { kinds: [], products: [], artifacts: [], actions: ['read'], ...grant.scope },
          roles: [],
          issuedAt: grant.notBefore ?? at,
          notBefore: grant.notBefore ?? at,
          expiresAt: grant.expiresAt ?? new Date(at.getTime() + HOUR),
        },
        grant.signer,
        grant.holder,
      );
    },
    async revoke(credentialId) {
      revokedCredentialIds.push(credentialId);
      return publish();
    },
    async setKeys(next) {
      keys = await Promise.all(next.map(tokenKeyOf));
      return publish();
    },
    close: () => server.close(),
  };
}

async function tokenKeyOf(key: SigningKeyPair): Promise<TokenKey> {
  return create(TokenKeySchema, { keyId: await keyIdOf(key.publicKey), publicKey: key.publicKey });
}

/** A WatchTrust server: the current snapshot at once, then each new one as it is published. */
function startTrustServer(
  current: () => WatchTrustResponse,
  watchers: Set<() => void>,
): Promise<RunningServer> {
  return startServer({
    port: 0,
    routes: (router) =>
      router.service(AccessService, {
        async *watchTrust(_req, ctx) {
          let wake: () => void = () => {};
          const watcher = () => wake();
          watchers.add(watcher);
          try {
            while (!ctx.signal.aborted) {
              const changed = new Promise<void>((resolve) => {
                wake = resolve;
                ctx.signal.addEventListener('abort', () => resolve(), { once: true });
              });
              yield current();
              await changed;
            }
          } finally {
            watchers.delete(watcher);
          }
        },
      }),
    files: [],
    healthServices: [AccessService.typeName],
    logger: createLogger('test-trust', { VITRINE_LOG_LEVEL: 'silent' }),
    shutdownGraceMs: 100,
  });
}
