import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initiateHandshake, signManifest, verifyManifest } from '@vitrine/channel';
import { ArtifactState } from '@vitrine/proto/artifact';
import { Severity } from '@vitrine/proto/finding';
import { SyncService } from '@vitrine/proto/sync';
import { type ClientTls, createGrpcClient } from '@vitrine/rpc';
import {
  createTestCertificateAuthority,
  grpcCodeOf,
  type TestCertificateAuthority,
  testBackends,
} from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SyncConfigInput, startSync } from '../src/index.js';
import { randomContent, upload } from './artifact-io.js';
import {
  eventually,
  startTestFederation,
  type TestCenter,
  type TestFederation,
} from './federation-harness.js';

// Transport security does not depend on storage: the embedded database is enough here.
const [pglite] = testBackends();
if (!pglite) throw new Error('no PGlite test backend');

/** A finding created at `origin`, for watching replication. */
async function newFinding(origin: TestCenter, title: string): Promise<string> {
  const pushed = await origin.client.pushArtifact(upload(title, [], randomContent(300_000)));
  const { finding } = await origin.client.createFinding({
    artifactIds: [pushed.artifact?.id ?? ''],
    title,
    severity: Severity.MEDIUM,
  });
  return finding?.id ?? '';
}

describe('sync over mutual TLS', () => {
  let ca: TestCertificateAuthority;
  let rogue: TestCertificateAuthority;
  let f: TestFederation;
  beforeAll(async () => {
    ca = await createTestCertificateAuthority('vitrine federation CA');
    rogue = await createTestCertificateAuthority('rogue CA');
    f = await startTestFederation(pglite, {
      tls: async (center) => ({ ...(await ca.issue(`${center} sync`)), ca: ca.cert }),
    });
  });
  afterAll(() => f.cleanup());

  /** Calls a center's sync service with `tls` and runs a real handshake as `us`. */
  async function handshakeWith(target: TestCenter, tls: ClientTls | undefined, url?: string) {
    const manifest = await verifyManifest(
      JSON.parse(await readFile(f.manifestFile, 'utf8')),
      f.root.publicKey,
    );
    const client = createGrpcClient(SyncService, url ?? target.sync?.url ?? '', tls ? { tls } : {});
    const pending = await initiateHandshake({
      manifest,
      self: { id: 'us', signingKey: f.centers.us.key },
      peerId: target.id,
    });
    return pending.complete(await client.handshake(pending.request));
  }

  it('replicates events and artifact bytes between three centers', async () => {
    const { asia, europe, us } = f.centers;
    for (const c of [asia, europe, us]) expect(c.sync?.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const fid = await newFinding(europe, 'found over mTLS');
    for (const c of [asia, us]) {
      const got = await eventually(() => c.client.getFinding({ id: fid }));
      expect(got.finding?.title).toBe('found over mTLS');
      const id = got.finding?.artifactIds[0] ?? '';
      const available = async () => {
        const { artifact } = await c.client.getArtifact({ id });
        return artifact?.state === ArtifactState.AVAILABLE ? artifact : undefined;
      };
      expect((await eventually(available)).size).toBe(300_000n);
    }
  });

  it('lets a caller with a certificate from the federation CA reach the handshake', async () => {
    const { europe } = f.centers;
    const session = await handshakeWith(europe, { ca: ca.cert, ...(await ca.issue('caller')) });
    expect(session.id).toBeTruthy();
  });

  // The refusals below happen in TLS, before any RPC: no server status exists, and the code
  // is what the client's transport reports — Internal for the TLS alert a missing
  // certificate draws, Canceled for a connection the server closes after verifying.
  it('refuses a caller without a client certificate', async () => {
    const { europe } = f.centers;
    expect(await grpcCodeOf(handshakeWith(europe, { ca: ca.cert }))).toBe('INTERNAL');
  });

  it('refuses a caller whose certificate comes from another CA', async () => {
    const { europe } = f.centers;
    const foreign = { ca: ca.cert, ...(await rogue.issue('us sync')) };
    expect(await grpcCodeOf(handshakeWith(europe, foreign))).toBe('CANCELLED');
  });

  it('refuses plaintext HTTP/2 on a TLS sync port', async () => {
    const { europe } = f.centers;
    const url = `http://127.0.0.1:${europe.syncPort}`;
    expect(await grpcCodeOf(handshakeWith(europe, undefined, url))).toBe('CANCELLED');
  });

  it('cuts off a center whose certificate comes from another CA, both ways', async () => {
    const { asia, europe, us } = f.centers;
    await us.stopSync();
    const foreign = { ...(await rogue.issue('us sync')), ca: ca.cert };
    const tlsDir = join(us.registry.config.dataDir, 'tls');
    await writeFile(join(tlsDir, 'sync.crt'), foreign.cert);
    await writeFile(join(tlsDir, 'sync.key'), foreign.key, { mode: 0o600 });
    await us.startSync();
    const fid = await newFinding(europe, 'not for the impostor');
    await eventually(() => asia.client.getFinding({ id: fid }));
    const failing = (c: TestCenter, peer: string, error: RegExp) => async () => {
      const status = c.sync?.statuses.of(peer);
      return status && !status.connected && error.test(status.lastError) ? status : undefined;
    };
    // europe closes the connection of a client it does not trust...
    await eventually(failing(us, 'europe', /stream closed with error code CANCEL/));
    // ...and refuses, as a client, a server certificate from a CA it does not trust.
    await eventually(failing(europe, 'us', /unable to verify the first certificate/));
    expect(await grpcCodeOf(us.client.getFinding({ id: fid }))).toBe('NOT_FOUND');
  });

  /** Starts a second sync for europe with its config changed, for start-up refusals. */
  function startEurope(change: (config: SyncConfigInput) => SyncConfigInput) {
    const { europe } = f.centers;
    return startSync(change(europe.syncConfig), {
      replica: europe.registry.replica,
      chunks: europe.registry.chunks,
      operators: europe.registry.operators,
    });
  }

  /** europe's config without its `tls` block: plaintext. */
  function plaintext(config: SyncConfigInput): SyncConfigInput {
    const { tls: _, ...rest } = config;
    return rest;
  }

  it('refuses plaintext sync listening beyond loopback at start, naming the setting', async () => {
    const start = startEurope((c) => ({ ...plaintext(c), listen: { host: '0.0.0.0', port: 0 } }));
    await expect(start).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(
        /^sync\.listen\.host 0\.0\.0\.0 is not loopback: configure sync\.tls \(mutual TLS\)/,
      ),
    });
  });

  it('refuses plaintext sync with a peer whose manifest endpoint is beyond loopback', async () => {
    const signed = JSON.parse(await readFile(f.manifestFile, 'utf8'));
    const doc = JSON.parse(signed.manifest);
    doc.centers[2].sync = 'http://10.20.30.40:7431';
    const manifestFile = join(f.centers.europe.registry.config.dataDir, 'remote-manifest.json');
    await writeFile(manifestFile, JSON.stringify(await signManifest(doc, f.root)));
    const start = startEurope((c) => ({
      ...plaintext(c),
      manifestFile,
      listen: { host: '::1', port: 0 },
    }));
    await expect(start).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(
        /^peer us's sync endpoint http:\/\/10\.20\.30\.40:7431 in the manifest is not loopback: configure sync\.tls/,
      ),
    });
  });

  it('serves beyond loopback when mutual TLS is configured', async () => {
    const sync = await startEurope((c) => ({ ...c, listen: { host: '0.0.0.0', port: 0 } }));
    try {
      expect(sync.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await sync.stop();
    }
  });

  it('refuses TLS files that are missing or do not belong together', async () => {
    const dir = f.centers.europe.registry.config.dataDir;
    const ca = await createTestCertificateAuthority();
    const [one, two] = [await ca.issue('one'), await ca.issue('two')];
    const files = { certFile: join(dir, 'one.crt'), keyFile: join(dir, 'two.key') };
    await writeFile(files.certFile, one.cert);
    await writeFile(files.keyFile, two.key, { mode: 0o600 });
    await writeFile(join(dir, 'ca.crt'), ca.cert);
    const missing = startEurope((c) => ({
      ...c,
      tls: { ...files, caFile: join(dir, 'absent.crt') },
    }));
    await expect(missing).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^cannot read sync\.tls\.caFile .*absent\.crt \(ENOENT\)$/),
    });
    const mismatched = startEurope((c) => ({
      ...c,
      tls: { ...files, caFile: join(dir, 'ca.crt') },
    }));
    await expect(mismatched).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^sync\.tls files do not load: .*key values mismatch/),
    });
  });
});
