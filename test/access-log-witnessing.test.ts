import { trustKeyPath } from '@vitrine/access';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { testBackends } from '@vitrine/testing';
import {
  ADD_CHECKPOINT_PATH,
  formatAddCheckpoint,
  formatCheckpoint,
  noteKey,
  noteSigner,
  signNote,
  TREE_SIZE_CONTENT_TYPE,
  verifyCosignedCheckpoint,
  witnessKey,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAccess, type TestAccess } from '../services/access/test/harness.js';
import {
  eventually,
  startTestFederation,
  type TestFederation,
} from '../services/sync/test/federation-harness.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The access service and three centers: every center's witness cosigns the access log. */
describe.each(testBackends().slice(0, 1))(
  'the access log witnessed by the centers on $name',
  (backend) => {
    let access: TestAccess;
    let f: TestFederation;

    beforeAll(async () => {
      access = await startTestAccess(backend, { federation: 'test' });
      f = await startTestFederation(backend, {
        access: { url: access.access.url, trustKey: b64(access.access.trustKey) },
        witnessing: { quorum: 2 },
      });
      // The centers' addresses and keys exist only now: the access service learns them.
      await access.restart({
        federation: 'test',
        log: {
          checkpointIntervalMs: 50,
          witnessQuorum: 2,
          backoff: { initialMs: 50, maxMs: 500 },
          witnesses: Object.values(f.centers).map((c) => ({
            id: c.id,
            url: c.registry.url,
            publicKey: b64(c.key.publicKey),
          })),
        },
      });
    }, 120_000);
    afterAll(async () => {
      await f?.cleanup();
      await access?.cleanup();
    });

    const policy = (quorum: number) => ({
      log: noteKey('test/access', access.access.trustKey),
      witnesses: Object.values(f.centers).map((c) => witnessKey('test', c.id, c.key.publicKey)),
      quorum,
    });

    it('serves its checkpoint cosigned by every center, final at a quorum of 2', async () => {
      const log = createGrpcClient(LogService, access.access.url);
      const res = await eventually(async () => {
        const latest = await log.getCheckpoint({});
        return latest.cosigners.length === 3 ? latest : undefined;
      });
      expect(res).toMatchObject({
        cosigners: ['test/asia/witness', 'test/europe/witness', 'test/us/witness'],
        cosignatureCount: 3,
        quorum: 2,
        final: true,
      });
      const verified = await verifyCosignedCheckpoint(res.checkpoint, policy(2));
      expect(verified.checkpoint).toMatchObject({
        origin: 'test/access',
        size: Number(res.treeSize),
      });
      const tiles = await fetch(new URL('/log/checkpoint', access.access.url));
      expect(await tiles.text()).toBe(res.checkpoint);
    });

    it('is refused by a center shown a second root for the size it cosigned, kept as fork evidence', async () => {
      const log = createGrpcClient(LogService, access.access.url);
      const cosigned = await eventually(async () => {
        const latest = await log.getCheckpoint({});
        return latest.cosigners.length === 3 ? latest : undefined;
      });
      const asia = f.centers.asia;
      const trustKey = await loadOrCreateKeyFile(trustKeyPath({ dataDir: access.dataDir }));
      const size = Number(cosigned.treeSize);
      // The access service's own key signs another root for a size asia's witness cosigned.
      const forged = await signNote(
        formatCheckpoint({
          origin: 'test/access',
          size,
          root: new Uint8Array(32).fill(7),
          extensions: [],
        }),
        [noteSigner('test/access', trustKey)],
      );
      const res = await fetch(new URL(ADD_CHECKPOINT_PATH, asia.registry.url), {
        method: 'POST',
        body: formatAddCheckpoint({ oldSize: size, proof: [], note: forged }),
      });
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toBe(TREE_SIZE_CONTENT_TYPE);
      expect(await res.text()).toBe(`${size}\n`);
      const evidence = await asia.registry.witness.evidence('access');
      expect(evidence).toHaveLength(1);
      expect(evidence[0]).toMatchObject({ origin: 'access', kind: 'fork', note: forged });
      await expect(
        verifyCosignedCheckpoint(evidence[0]?.otherNote ?? '', policy(0)),
      ).resolves.toMatchObject({
        checkpoint: { size },
      });
    });
  },
);
