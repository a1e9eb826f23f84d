import { trustKeyPath } from '@vitrine/access';
import { loadOrCreateKeyFile } from '@vitrine/crypto';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient } from '@vitrine/rpc';
import { grpcCodeOf, testBackends } from '@vitrine/testing';
import {
  ADD_CHECKPOINT_PATH,
  formatAddCheckpoint,
  formatCheckpoint,
  formatTlogProof,
  noteKey,
  noteSigner,
  parseTlogProof,
  signNote,
  TREE_SIZE_CONTENT_TYPE,
  verifyCosignedCheckpoint,
  witnessKey,
} from '@vitrine/tlog';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../cli/src/receipt-verification.js';
import { hoursFromNow, startTestAccess, type TestAccess } from '../services/access/test/harness.js';
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

    it('gives the partner concerned a receipt of its decision, verified offline with the centers’ cosignatures', async () => {
      const acme = await access.registerPartner('Acme', ['US']);
      const other = await access.registerPartner('Other', ['US']);
      const { request } = await acme.client.requestAccess({
        jurisdiction: 'US',
        scope: { artifactKinds: ['rules'], actions: [1] },
        expiresAt: hoursFromNow(24),
        justification: 'rules review',
      });
      const requestId = request?.id ?? '';
      const subject = { case: 'requestId', value: requestId } as const;
      // Once a checkpoint covers the request and all three centers cosigned it.
      const res = await eventually(async () => {
        const r = await acme.client.getDecisionReceipt({ subject });
        return r.receipt.split('\n— ').length === 5 ? r : undefined;
      });
      const keys = [policy(0).log, ...policy(0).witnesses];
      const checked = await verifyReceipt(res.receipt, keys, { witnessQuorum: 2 });
      expect(checked.steps.map((s) => [s.step, s.ok])).toEqual([
        ['format', true],
        ['checkpoint', true],
        ['witnesses', true],
        ['leaf', true],
        ['decision signature', true],
        ['inclusion', true],
      ]);
      expect(checked.decision).toMatchObject({
        index: Number(res.leafIndex),
        kind: 'ACCESS_REQUESTED',
        requestId,
      });
      const byOperator = await access.operator('alice').getDecisionReceipt({ subject });
      expect(byOperator.leafIndex).toBe(res.leafIndex);

      // Another partner learns nothing: NOT_FOUND as for a decision that does not exist.
      const byIndex = { case: 'leafIndex', value: res.leafIndex } as const;
      for (const refused of [
        () => other.client.getDecisionReceipt({ subject }),
        () => other.client.getDecisionReceipt({ subject: byIndex }),
        () => acme.client.getDecisionReceipt({ subject: { case: 'leafIndex', value: 1n << 40n } }),
      ]) {
        const call = refused();
        await expect(call).rejects.toMatchObject({
          rawMessage: 'no such decision of the access log for you',
        });
        expect(await grpcCodeOf(call)).toBe('NOT_FOUND');
      }
      const malformed = acme.client.getDecisionReceipt({
        subject: { case: 'requestId', value: 'x' },
      });
      expect(await grpcCodeOf(malformed)).toBe('INVALID_ARGUMENT');
      await expect(malformed).rejects.toMatchObject({
        rawMessage: expect.stringContaining('request_id: must be a request id'),
      });
      expect(await grpcCodeOf(acme.client.getDecisionReceipt({}))).toBe('INVALID_ARGUMENT');

      // One byte changed is refused at the step that checks it.
      const proof = parseTlogProof(res.receipt);
      const leaf = Uint8Array.from(proof.extra ?? []);
      leaf[leaf.length - 1] = (leaf.at(-1) ?? 0) ^ 1;
      const forgedLeaf = await verifyReceipt(formatTlogProof({ ...proof, extra: leaf }), keys);
      expect(forgedLeaf.steps.at(-1)).toMatchObject({ step: 'decision signature', ok: false });
      const path = proof.proof.map((h) => Uint8Array.from(h));
      if (path[0]) path[0][0] = (path[0][0] ?? 0) ^ 1;
      const forgedPath = await verifyReceipt(formatTlogProof({ ...proof, proof: path }), keys);
      expect(forgedPath.steps.at(-1)).toMatchObject({ step: 'inclusion', ok: false });
      expect(forgedPath.decision).toBeUndefined();
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
