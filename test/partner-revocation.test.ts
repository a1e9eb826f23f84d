import { readFile } from 'node:fs/promises';
import { ConnectError, createClient } from '@connectrpc/connect';
import {
  callAuthInterceptor,
  decodeSignedSnapshot,
  verifyTrustSnapshot,
} from '@vitrine/credentials';
import type { SigningKeyPair } from '@vitrine/crypto';
import { Action } from '@vitrine/proto/access';
import { RegistryService } from '@vitrine/proto/registry';
import { createGrpcClientTransport, createLogger } from '@vitrine/rpc';
import { type TempDir, type TestDatabase, tempDir, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessClient,
  startTestAccess,
  type TestAccess,
} from '../services/access/test/harness.js';
import {
  type RunningRegistry,
  startRegistry,
  trustFilePath,
} from '../services/registry/src/index.js';
import { eventually } from '../services/sync/test/federation-harness.js';

const HOUR = 3_600_000;
/** The access service runs this far behind the center, so windows it sets in its future are open there. */
const ACCESS_BEHIND_MS = 2 * HOUR;

/**
 * A partner revocation at a real center following a real access service: it covers every
 * credential approved before it, including one whose window opens after the revocation.
 */
describe.each(testBackends().slice(0, 1))('partner revocation at a center on $name', (backend) => {
  let access: TestAccess;
  let registry: RunningRegistry;
  let database: TestDatabase;
  let dir: TempDir;
  const accessNow = () => new Date(Date.now() - ACCESS_BEHIND_MS);

  beforeAll(async () => {
    access = await startTestAccess(backend, {}, { now: accessNow });
    database = await backend.open();
    dir = await tempDir('vitrine-revocation-center-');
    registry = await startRegistry(
      {
        center: { id: 'us', jurisdiction: 'US' },
        jurisdictions: ['APAC', 'EU', 'US'],
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: dir.path,
        access: {
          url: access.access.url,
          trustKey: Buffer.from(access.access.trustKey).toString('base64'),
          backoff: { initialMs: 20, maxMs: 200 },
        },
        ...(database.url ? { databaseUrl: database.url } : {}),
      },
      { logger: createLogger('test-registry', { VITRINE_LOG_LEVEL: 'silent' }) },
    );
  });
  afterAll(async () => {
    await registry?.stop();
    await access?.cleanup();
    await database?.cleanup();
    await dir?.cleanup();
  });

  /** The version of the snapshot the access service publishes now. */
  async function publishedVersion(): Promise<bigint> {
    const stream = access.anonymous.watchTrust({})[Symbol.asyncIterator]();
    const first = await stream.next();
    await stream.return?.();
    return (await verifyTrustSnapshot(first.value, access.access.trustKey)).version;
  }

  /** Resolves once the center holds the snapshot the access service publishes now. */
  async function centerCaughtUp(): Promise<void> {
    const version = await publishedVersion();
    await eventually(async () => {
      const signed = decodeSignedSnapshot(await readFile(trustFilePath(dir.path)));
      const held = await verifyTrustSnapshot(signed, access.access.trustKey);
      return held.version >= version ? true : undefined;
    });
  }

  /** Requests rules read access in US from `notBefore` (access time) and has alice approve it. */
  async function approved(client: AccessClient, notBefore?: Date): Promise<string> {
    const start = notBefore ?? accessNow();
    const { request } = await client.requestAccess({
      jurisdiction: 'US',
      scope: { artifactKinds: ['rules'], actions: [Action.READ] },
      ...(notBefore ? { notBefore: timestamp(notBefore) } : {}),
      expiresAt: timestamp(new Date(start.getTime() + 4 * HOUR)),
      justification: 'rules review',
    });
    const decided = await access.operator('alice').decideAccessRequest({
      requestId: request?.id ?? '',
      approve: true,
      reason: 'review is due',
    });
    return decided.request?.credential ?? '';
  }

  function listAt(key: SigningKeyPair, credential: string) {
    const client = createClient(
      RegistryService,
      createGrpcClientTransport(registry.url, {
        interceptors: [callAuthInterceptor(() => ({ key, credential }), 'us')],
      }),
    );
    return client.listArtifacts({}).catch((err: unknown) => ConnectError.from(err));
  }

  it('refuses UNAUTHENTICATED a credential approved before the revocation whose window opened after it', async () => {
    const { partner, key, client } = await access.registerPartner('Later Starter', ['US']);
    // Approved now (access time), valid from an hour later: open at the center already.
    const credential = await approved(client, new Date(accessNow().getTime() + HOUR));
    await centerCaughtUp();
    expect(await listAt(key, credential)).not.toBeInstanceOf(ConnectError);

    await access.operator('sec').revoke({
      target: { case: 'partnerId', value: partner.id },
      reason: 'contract ended',
    });
    await centerCaughtUp();
    const refused = await listAt(key, credential);
    expect(refused).toMatchObject({ code: 16, rawMessage: 'credential has been revoked' });

    // A credential approved after the revocation is not covered by it.
    const fresh = await approved(client);
    await centerCaughtUp();
    expect(await listAt(key, fresh)).not.toBeInstanceOf(ConnectError);
  });
});

function timestamp(at: Date) {
  return { seconds: BigInt(Math.floor(at.getTime() / 1000)), nanos: 0 };
}
