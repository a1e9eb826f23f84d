import { decodeSignedSnapshot, verifyTrustSnapshot } from '@vitrine/credentials';
import { LogService } from '@vitrine/proto/log';
import { createGrpcClient, createLogger } from '@vitrine/rpc';
import { type TempDir, type TestDatabase, tempDir, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hoursFromNow, startTestAccess, type TestAccess } from '../../access/test/harness.js';
import { AccessLogAudit, type HeldSnapshot } from '../src/access/access-log-audit.js';
import { type RunningRegistry, startRegistry } from '../src/index.js';

const logger = createLogger('test-access-log-audit', { VITRINE_LOG_LEVEL: 'silent' });

describe.each(testBackends())(
  'a center holds the access log to its snapshots on $name',
  (backend) => {
    let t: TestAccess;
    let registry: RunningRegistry;
    let database: TestDatabase;
    let dir: TempDir;

    beforeAll(async () => {
      t = await startTestAccess(backend, {
        federation: 'vitrine-test',
        log: { checkpointIntervalMs: 20 },
      });
      database = await backend.open();
      dir = await tempDir('vitrine-registry-');
      registry = await startRegistry(
        {
          center: { id: 'europe', jurisdiction: 'EU' },
          jurisdictions: ['APAC', 'EU', 'US'],
          listen: { host: '127.0.0.1', port: 0 },
          dataDir: dir.path,
          federation: 'vitrine-test',
          access: {
            url: t.access.url,
            trustKey: Buffer.from(t.access.trustKey).toString('base64'),
            backoff: { initialMs: 20, maxMs: 200 },
          },
          ...(database.url ? { databaseUrl: database.url } : {}),
        },
        { logger },
      );
    });
    afterAll(async () => {
      await registry?.stop();
      await database?.cleanup();
      await dir?.cleanup();
      await t?.cleanup();
    });

    /** The access service's current snapshot, as a center receives it, signature checked. */
    async function current(): Promise<HeldSnapshot> {
      const stream = t.anonymous.watchTrust({ centerId: 'europe' })[Symbol.asyncIterator]();
      const first = await stream.next();
      await stream.return?.();
      if (first.done) throw new Error('WatchTrust sent nothing');
      return {
        snapshot: await verifyTrustSnapshot(first.value, t.access.trustKey),
        signed: first.value,
      };
    }

    /** Waits until the center has checked the access log up to `size`. */
    async function checkedUpTo(size: bigint) {
      const deadline = Date.now() + 30_000;
      while ((registry.trust?.accessLog?.size ?? -1n) < size && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return registry.trust?.accessLog;
    }

    /** Decisions that grow the access log and end in a revocation, which makes a snapshot. */
    async function grantAndRevoke(name: string) {
      const partner = await t.registerPartner(name, ['US']);
      const { request } = await partner.client.requestAccess({
        jurisdiction: 'US',
        scope: { artifactKinds: ['rules'], actions: [1] },
        expiresAt: hoursFromNow(24),
        justification: 'rules review',
      });
      const { request: approved } = await t
        .operator('alice')
        .decideAccessRequest({ requestId: request?.id ?? '', approve: true, reason: 'ok' });
      await t.operator('sec').revoke({
        target: { case: 'credentialId', value: approved?.credentialId ?? '' },
        reason: 'done',
      });
    }

    it('takes a larger snapshot whose log the access service proves consistent', async () => {
      const before = await current();
      const held = await checkedUpTo(before.snapshot.accessLogSize);
      expect(held?.size).toBe(before.snapshot.accessLogSize);
      await grantAndRevoke('Consistent Reviewer');
      await grantAndRevoke('Second Reviewer');
      const after = await current();
      expect(after.snapshot.accessLogSize).toBeGreaterThan(before.snapshot.accessLogSize);
      const checked = await checkedUpTo(after.snapshot.accessLogSize);
      expect(checked?.size).toBe(after.snapshot.accessLogSize);
      expect(checked?.root).toEqual(after.snapshot.accessLogRoot);
      expect(registry.trust?.version).toBe(after.snapshot.version);
      expect(await registry.witness.evidence()).toEqual([]);
    });

    it('keeps a tampered proof, a smaller size and another root as evidence', async () => {
      const older = await current();
      await grantAndRevoke('Tamper Target');
      const newer = await current();
      const access = createGrpcClient(LogService, t.access.url);
      let asked = 0;
      const prove = async (oldSize: number, newSize: number) => {
        asked++;
        const { proof } = await access.getConsistencyProof({
          oldSize: BigInt(oldSize),
          newSize: BigInt(newSize),
        });
        return proof;
      };
      const keep = (e: Parameters<typeof registry.witness.keep>[0]) => registry.witness.keep(e);
      // The real proof verifies: nothing kept.
      expect(await new AccessLogAudit(prove, keep, logger).check(older, newer)).toBe(true);
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(await registry.witness.evidence('access')).toEqual([]);

      // One byte of the proof changed: inconsistent history, both snapshots kept.
      const tampered = async (oldSize: number, newSize: number) => {
        const proof = await prove(oldSize, newSize);
        expect(proof.length).toBeGreaterThan(0);
        const first = Uint8Array.from(proof[0] as Uint8Array);
        first[0] = (first[0] as number) ^ 1;
        return [first, ...proof.slice(1)];
      };
      expect(await new AccessLogAudit(tampered, keep, logger).check(older, newer)).toBe(true);
      // The snapshots reversed: the log went back.
      expect(await new AccessLogAudit(prove, keep, logger).check(newer, older)).toBe(true);
      // Another root at the same size (signatures are checked before the audit, by TrustState).
      const forked = {
        ...newer,
        snapshot: { ...newer.snapshot, accessLogRoot: new Uint8Array(32).fill(7) },
      };
      expect(await new AccessLogAudit(prove, keep, logger).check(newer, forked)).toBe(true);
      // No proof to be had (the access service unreachable): nothing kept, checked again later.
      const down = async () => {
        throw new Error('connection refused');
      };
      expect(await new AccessLogAudit(down, keep, logger, [10, 0]).check(older, newer)).toBe(false);

      const kept = await registry.witness.evidence('access');
      expect(kept.map((e) => e.kind)).toEqual(['inconsistent', 'rollback', 'fork']);
      // The origin is held as forked until an operator resumes it, as a peer's would be.
      expect(await registry.replica.forked.current()).toContain('access');
      const [inconsistent, rollback, fork] = kept;
      expect(inconsistent?.note).toContain(
        `vitrine trust snapshot ${newer.snapshot.version}: access log ${newer.snapshot.accessLogSize} `,
      );
      expect(inconsistent?.otherNote).toContain(
        `vitrine trust snapshot ${older.snapshot.version}: access log ${older.snapshot.accessLogSize} `,
      );
      expect(rollback?.message).toContain(
        `went back from ${newer.snapshot.accessLogSize} to ${older.snapshot.accessLogSize}`,
      );
      expect(fork?.message).toContain(
        `two roots for its log at size ${newer.snapshot.accessLogSize}`,
      );
      // The kept statement carries the signed snapshot, which still verifies by the trust key.
      const signed = decodeSignedSnapshot(
        Buffer.from(inconsistent?.note.split('\n')[1] ?? '', 'base64'),
      );
      expect((await verifyTrustSnapshot(signed, t.access.trustKey)).version).toBe(
        newer.snapshot.version,
      );
    });
  },
);
