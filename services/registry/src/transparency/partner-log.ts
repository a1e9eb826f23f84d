import type { ServiceImpl } from '@connectrpc/connect';
import { VitrineError } from '@vitrine/errors';
import type { LogService } from '@vitrine/proto/log';
import { inclusionProof } from '@vitrine/tlog';
import type { Kysely } from 'kysely';
import { grantOf } from '../access/access-grant.js';
import type { RegistryDatabase } from '../schema.js';
import { EventCoverage } from './event-coverage.js';
import { logHashReader } from './log-tree-store.js';

/** Events listed by one call unless it asks for fewer, and the most it may ask for. */
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;

/** Events read from the database at a time while filtering a listing. */
const READ_BATCH = 256;

type PartnerLogMethods = Pick<ServiceImpl<typeof LogService>, 'listEvents' | 'getReceipt'>;

interface EventRow {
  readonly origin: string;
  readonly seq: bigint;
  readonly header: Uint8Array;
  readonly signature: Uint8Array;
  readonly body: Uint8Array | null;
}

/**
 * The LogService methods whose answer depends on the caller's credential (the access
 * interceptor checks it, as for registry reads, and records a partner's call): the events
 * it covers (`EventCoverage`), and receipts for them. Out-of-scope events are skipped
 * before counting, so neither the number of events listed nor where a page ends tells a
 * partner that they exist; a receipt for one is NOT_FOUND, exactly as for a missing event.
 */
export function partnerLogMethods(db: Kysely<RegistryDatabase>, center: string): PartnerLogMethods {
  return {
    async *listEvents(req, ctx) {
      const origin = req.origin || center;
      const limit = req.limit === 0 ? DEFAULT_LIST_LIMIT : req.limit;
      if (limit > MAX_LIST_LIMIT) {
        throw new VitrineError(
          'invalid_argument',
          `limit is at most ${MAX_LIST_LIMIT} events, not ${limit}`,
        );
      }
      const coverage = new EventCoverage(db, grantOf(ctx));
      const head = await contiguousHead(db, origin);
      let after = req.afterSeq;
      let listed = 0;
      while (listed < limit && after < head) {
        const rows = await db
          .selectFrom('events')
          .select(['origin', 'seq', 'header', 'signature', 'body'])
          .where('origin', '=', origin)
          .where('seq', '>', after)
          .where('seq', '<=', head)
          .orderBy('seq')
          .limit(READ_BATCH)
          .execute();
        if (rows.length === 0) break;
        for (const row of rows) {
          after = row.seq;
          if (!(await coverage.covers(row))) continue;
          yield { event: signedEvent(row) };
          if (++listed === limit) break;
        }
        ctx.signal.throwIfAborted();
      }
    },

    async getReceipt(req, ctx) {
      const grant = grantOf(ctx);
      // The call's AccessUsed record names what it asked about.
      if (req.subject.case === 'artifactId') grant.subject.artifactId = req.subject.value;
      if (req.subject.case === 'findingId') grant.subject.findingId = req.subject.value;
      const coverage = new EventCoverage(db, grant);
      const row = await subjectEvent(db, center, req.subject, coverage);
      const leafIndex = Number(row.seq) - 1;
      const checkpoint = await provableCheckpoint(db, row.origin, leafIndex);
      return {
        event: signedEvent(row),
        origin: row.origin,
        seq: row.seq,
        treeSize: BigInt(checkpoint.size),
        proof: await inclusionProof(leafIndex, checkpoint.size, logHashReader(db, row.origin)),
        checkpoint: checkpoint.note,
      };
    },
  };
}

function signedEvent(row: EventRow) {
  return { header: row.header, signature: row.signature, body: row.body ?? new Uint8Array() };
}

/** The highest sequence of `origin` held here with every event before it: its log's size. */
async function contiguousHead(db: Kysely<RegistryDatabase>, origin: string): Promise<bigint> {
  const head = await db
    .selectFrom('log_heads')
    .select('seq')
    .where('origin', '=', origin)
    .executeTakeFirst();
  return head?.seq ?? 0n;
}

type Subject = Parameters<PartnerLogMethods['getReceipt']>[0]['subject'];

/** The event a receipt is asked for, once the caller's credential covers it. */
async function subjectEvent(
  db: Kysely<RegistryDatabase>,
  center: string,
  subject: Subject,
  coverage: EventCoverage,
): Promise<EventRow> {
  const events = db.selectFrom('events').select(['origin', 'seq', 'header', 'signature', 'body']);
  let row: EventRow | undefined;
  let named: string;
  switch (subject.case) {
    case 'event': {
      const origin = subject.value.origin || center;
      if (subject.value.seq < 1n) throw new VitrineError('invalid_argument', 'seq starts at 1');
      named = `event ${origin}/${subject.value.seq}`;
      const head = await contiguousHead(db, origin);
      if (subject.value.seq <= head) {
        row = await events
          .where('origin', '=', origin)
          .where('seq', '=', subject.value.seq)
          .executeTakeFirst();
      }
      break;
    }
    case 'artifactId': {
      named = `artifact ${subject.value}`;
      const artifact = await db
        .selectFrom('artifacts')
        .select(['origin', 'published_hlc'])
        .where('id', '=', subject.value)
        .executeTakeFirst();
      if (artifact !== undefined) {
        row = await events
          .where('origin', '=', artifact.origin)
          .where('hlc', '=', artifact.published_hlc)
          .where('body_case', '=', 'artifactPublished')
          .executeTakeFirst();
      }
      break;
    }
    case 'findingId': {
      named = `finding ${subject.value}`;
      const latest = await db
        .selectFrom('finding_history')
        .select(['origin', 'seq'])
        .where('finding_id', '=', subject.value)
        .orderBy('hlc', 'desc')
        .orderBy('origin', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (latest !== undefined) {
        row = await events
          .where('origin', '=', latest.origin)
          .where('seq', '=', latest.seq)
          .executeTakeFirst();
      }
      break;
    }
    default:
      throw new VitrineError(
        'invalid_argument',
        'name the event: by origin and seq, artifact_id or finding_id',
      );
  }
  if (row === undefined || !(await coverage.covers(row))) {
    throw new VitrineError('not_found', `${named} not found`);
  }
  return row;
}

/**
 * The latest checkpoint of `origin`'s log this center holds that it can prove leaf `index`
 * in: signed by the origin, checked against this center's copy of the tree (for a peer, by
 * the checkpoint witness before it was stored), and no larger than that copy.
 */
async function provableCheckpoint(
  db: Kysely<RegistryDatabase>,
  origin: string,
  index: number,
): Promise<{ size: number; note: string }> {
  const head = await contiguousHead(db, origin);
  const row = await db
    .selectFrom('log_checkpoints')
    .select(['size', 'note'])
    .where('origin', '=', origin)
    .where('size', '<=', head)
    .orderBy('size', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined || Number(row.size) <= index) {
    throw new VitrineError(
      'unavailable',
      `no checkpoint of ${origin}'s log covering its event ${index + 1} is held here yet: ask again in a few seconds`,
    );
  }
  return { size: Number(row.size), note: row.note };
}
