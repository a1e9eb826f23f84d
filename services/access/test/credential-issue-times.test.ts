import { migrateToLatest, openDatabase } from '@vitrine/storage';
import { testBackends } from '@vitrine/testing';
import { describe, expect, it } from 'vitest';
import * as initial from '../src/migrations/0001-initial.js';
import { accessMigrations } from '../src/migrations/index.js';
import { revokedCredentialIds } from '../src/revoked-credentials.js';
import type { AccessDatabase } from '../src/schema.js';

const HOUR_MS = 3_600_000;

describe.each(testBackends())(
  'credentials recorded with their window start, on $name',
  (backend) => {
    it('get their approval as issue time, so an earlier partner revocation covers them', async () => {
      const target = await backend.open();
      const database = await openDatabase<AccessDatabase>(target);
      try {
        const { db } = database;
        await migrateToLatest(db, { '0001-initial': initial });
        const approvedAt = new Date('2026-11-28T10:00:00Z');
        const windowStart = new Date(approvedAt.getTime() + 24 * HOUR_MS);
        await db
          .insertInto('partners')
          .values({
            id: 'p-0123456789ab',
            organisation: 'Early Bird',
            jurisdictions: ['US'],
            contact: 'sec@early.example',
            public_key: new Uint8Array(32).fill(1),
            registered_at: approvedAt,
          })
          .execute();
        await db
          .insertInto('access_requests')
          .values({
            id: 'r-00000000000000000001',
            partner_id: 'p-0123456789ab',
            requested_by: 'partner:p-0123456789ab',
            jurisdiction: 'US',
            scope_kinds: ['rules'],
            scope_products: [],
            scope_artifacts: [],
            scope_actions: ['read'],
            not_before: windowStart,
            expires_at: new Date(windowStart.getTime() + HOUR_MS),
            justification: 'later review',
            state: 'approved',
            approvals_required: 1,
            created_at: new Date(approvedAt.getTime() - HOUR_MS),
            credential_id: 'c-000000000000000000000001',
          })
          .execute();
        await db
          .insertInto('decisions')
          .values({
            request_id: 'r-00000000000000000001',
            approver: 'operator:alice',
            approve: true,
            reason: 'ok',
            at: approvedAt,
          })
          .execute();
        const credential = (id: string, requestId: string | null, issuedAt: Date) => ({
          id,
          subject: requestId ? 'partner:p-0123456789ab' : 'operator:ops',
          partner_id: requestId ? 'p-0123456789ab' : null,
          request_id: requestId,
          key_id: 'k4.pid.test',
          token: 'v4.public.x',
          issued_at: issuedAt,
          not_before: issuedAt,
          expires_at: new Date(windowStart.getTime() + HOUR_MS),
        });
        const operatorIssued = new Date(approvedAt.getTime() + 2 * HOUR_MS);
        await db
          .insertInto('credentials')
          .values([
            credential('c-000000000000000000000001', 'r-00000000000000000001', windowStart),
            credential('c-000000000000000000000002', null, operatorIssued),
          ])
          .execute();
        // Revoked after the approval, before the window opened.
        await db
          .insertInto('revocations')
          .values({
            id: 'v-00000000000000000001',
            target: 'partner',
            target_id: 'p-0123456789ab',
            partner_id: 'p-0123456789ab',
            reason: 'contract ended',
            revoked_by: 'operator:sec',
            at: new Date(approvedAt.getTime() + HOUR_MS),
          })
          .execute();
        expect(await revokedCredentialIds(db)).toEqual([]);

        await migrateToLatest(db, accessMigrations);
        const issued = await db
          .selectFrom('credentials')
          .select(['id', 'issued_at'])
          .orderBy('id')
          .execute();
        expect(issued).toEqual([
          { id: 'c-000000000000000000000001', issued_at: approvedAt },
          { id: 'c-000000000000000000000002', issued_at: operatorIssued },
        ]);
        expect(await revokedCredentialIds(db)).toEqual(['c-000000000000000000000001']);
      } finally {
        await database.close();
        await target.cleanup();
      }
    });
  },
);
