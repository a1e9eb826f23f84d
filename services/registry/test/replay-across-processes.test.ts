import { ConnectError } from '@connectrpc/connect';
import { startTestTrust, type TestDatabase, type TestTrust, testBackends } from '@vitrine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureHeaders, replayingClient } from './captured-headers.js';
import { startTestRegistry, type TestRegistry } from './harness.js';

/** Several registry processes of one center share its PostgreSQL server (PGlite has one). */
const postgres = testBackends().find((backend) => backend.name === 'postgres');

describe.skipIf(postgres === undefined)(
  'two registry servers of one center over one PostgreSQL database',
  () => {
    let database: TestDatabase;
    let trust: TestTrust;
    let one: TestRegistry;
    let two: TestRegistry;

    beforeAll(async () => {
      const backend = postgres as NonNullable<typeof postgres>;
      database = await backend.open();
      trust = await startTestTrust(['europe']);
      one = await startTestRegistry(backend, {}, { trust, database });
      two = await startTestRegistry(backend, {}, { trust, database });
    });
    afterAll(async () => {
      await one?.cleanup();
      await two?.cleanup();
      await trust?.close();
      await database?.cleanup();
    });

    it('refuses at either one a proof the other accepted', async () => {
      for (const [first, second] of [
        [one, two],
        [two, one],
      ] as const) {
        const { headers, code } = await captureHeaders(
          first.registry.url,
          trust.operatorAuth('europe'),
          (client) => client.listArtifacts({}),
          true,
        );
        expect(code).toBe('OK');
        const again = await replayingClient(second.registry.url, headers)
          .listArtifacts({})
          .catch((e) => ConnectError.from(e));
        expect(again).toMatchObject({ code: 16, rawMessage: 'proof of possession was replayed' });
      }
    });

    it('accepts each fresh proof once, wherever it arrives', async () => {
      const { headers } = await captureHeaders(
        one.registry.url,
        trust.operatorAuth('europe'),
        (client) => client.listArtifacts({}),
        false,
      );
      const replies = await Promise.allSettled(
        [one, two, one, two].map((r) => replayingClient(r.registry.url, headers).listArtifacts({})),
      );
      expect(replies.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of replies) {
        if (r.status === 'rejected') expect(ConnectError.from(r.reason).code).toBe(16);
      }
    });
  },
);
