import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { callerKey, principalName } from '@vitrine/credentials';
import { artifactKinds, findingStatuses, severities } from '@vitrine/proto/enum-words';
import { PullArtifactResponseSchema, type RegistryService } from '@vitrine/proto/registry';
import { decodePageToken, pageSize, paginate } from '@vitrine/storage';
import type { Kysely } from 'kysely';
import { grantOf } from './access/access-grant.js';
import { grantedArtifact, requireOnArtifacts, requireOnFinding } from './access/scoped-lookups.js';
import type { Artifacts } from './artifacts.js';
import { toArtifact, toComment, toFinding, toHistoryEntry } from './convert.js';
import type { Findings } from './findings.js';
import { notFound } from './not-found.js';
import { listArtifacts } from './queries/artifacts.js';
import {
  type FindingRow,
  findingSnapshot,
  listFindings,
  openFindingGroups,
} from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';
import type { ServiceLevels } from './service-levels.js';
import {
  ARTIFACT_ID,
  ARTIFACT_ID_PREFIX,
  assertAddComment,
  assertCreateFinding,
  assertId,
  assertUpdateFinding,
  FINDING_ID,
} from './validate.js';

/** Download messages carry about this many bytes: fewer, larger messages stream faster. */
const DATA_MESSAGE_BYTES = 1024 * 1024;

/** Joins consecutive pieces into buffers of at least `size` bytes (the last may be smaller). */
async function* coalesce(pieces: AsyncIterable<Uint8Array>, size: number) {
  let pending: Uint8Array[] = [];
  let length = 0;
  for await (const piece of pieces) {
    pending.push(piece);
    length += piece.length;
    if (length >= size) {
      yield new Uint8Array(Buffer.concat(pending, length));
      pending = [];
      length = 0;
    }
  }
  if (length > 0) yield new Uint8Array(Buffer.concat(pending, length));
}

/**
 * Who is calling, by name, as events record it: the caller the access interceptor
 * established (see callerKey), or `operator` for a local operator where none runs.
 */
function caller(ctx: HandlerContext): string {
  const who = ctx.values.get(callerKey);
  return who === undefined || who.kind === 'newcomer' ? 'operator' : principalName(who);
}

/** The registry's RPC handlers: each validates at the boundary and calls domain code. */
export function registryService(
  db: Kysely<RegistryDatabase>,
  artifacts: Artifacts,
  findings: Findings,
  levels: ServiceLevels,
  now: () => number = Date.now,
): ServiceImpl<typeof RegistryService> {
  const view = (row: FindingRow) => toFinding(row, levels.of(row, now()));
  return {
    async pushArtifact(requests, ctx) {
      const outcome = await artifacts.push(caller(ctx), requests, ctx.signal);
      return {
        artifact: toArtifact(outcome.artifact),
        created: outcome.created,
        chunksStored: outcome.chunksStored,
        chunksReused: outcome.chunksReused,
      };
    },

    async *pullArtifact(req, ctx) {
      assertId('id', req.id, ARTIFACT_ID, 'an artifact id (64 hex digits)');
      const row = await grantedArtifact(ctx, artifacts, 'read', req.id);
      const header = create(PullArtifactResponseSchema, {
        part: { case: 'artifact', value: toArtifact(row) },
      });
      // Pulling the first piece before the header lets a refusal (still replicating) be
      // the call's status rather than an error after a header.
      const body = coalesce(artifacts.pull(row), DATA_MESSAGE_BYTES);
      const first = await body.next();
      yield header;
      if (first.done) return;
      yield { part: { case: 'data', value: first.value } };
      for await (const data of body) yield { part: { case: 'data', value: data } };
    },

    async getArtifact(req, ctx) {
      assertId('id', req.id, ARTIFACT_ID, 'an artifact id (64 hex digits)');
      const row = await grantedArtifact(ctx, artifacts, 'read', req.id);
      return {
        artifact: toArtifact(row),
        manifest: row.manifest,
        manifestSignature: row.manifest_signature,
      };
    },

    async listArtifacts(req, ctx) {
      const limit = pageSize('page_size', req.pageSize);
      if (req.idPrefix) {
        assertId('id_prefix', req.idPrefix, ARTIFACT_ID_PREFIX, '4 to 64 lowercase hex digits');
      }
      const within = grantOf(ctx).listable('read');
      const filter = {
        ...(req.kind ? { kind: artifactKinds.word(req.kind) ?? '?' } : {}),
        ...(req.product ? { product: req.product } : {}),
        ...(req.idPrefix ? { idPrefix: req.idPrefix } : {}),
        ...(within ? { within } : {}),
      };
      const rows = await listArtifacts(db, filter, limit + 1, decodePageToken(req.pageToken));
      const { page, nextPageToken } = paginate(rows, limit, (r) => r.published_hlc);
      return { artifacts: page.map(toArtifact), nextPageToken };
    },

    async createFinding(req, ctx) {
      assertCreateFinding(req);
      await requireOnArtifacts(ctx, db, 'review', req.artifactIds, 'artifact', {
        artifactId: req.artifactIds[0] ?? '',
      });
      return { finding: view(await findings.create(caller(ctx), req)) };
    },

    async updateFinding(req, ctx) {
      assertUpdateFinding(req);
      await requireOnFinding(ctx, db, 'review', req.id);
      if (req.fixArtifactId !== undefined) {
        await requireOnArtifacts(ctx, db, 'review', [req.fixArtifactId], 'fix artifact');
      }
      return { finding: view(await findings.update(caller(ctx), req)) };
    },

    async addComment(req, ctx) {
      assertAddComment(req);
      await requireOnFinding(ctx, db, 'comment', req.findingId);
      return { comment: toComment(await findings.comment(caller(ctx), req)) };
    },

    async getFinding(req, ctx) {
      assertId('id', req.id, FINDING_ID, 'a finding id such as europe-17');
      await requireOnFinding(ctx, db, 'read', req.id);
      // One snapshot: the finding, its history and comments as of the same moment.
      const snapshot = await findingSnapshot(db, req.id);
      if (!snapshot) throw notFound('finding', [req.id]);
      return {
        finding: view(snapshot.row),
        history: snapshot.history.map(toHistoryEntry),
        comments: snapshot.comments.map(toComment),
      };
    },

    async listFindings(req, ctx) {
      const limit = pageSize('page_size', req.pageSize);
      if (req.artifactId) assertId('artifact_id', req.artifactId, ARTIFACT_ID, 'an artifact id');
      const within = grantOf(ctx).listable('read');
      const filter = {
        ...(within ? { within } : {}),
        ...(req.artifactId ? { artifactId: req.artifactId } : {}),
        ...(req.status ? { status: findingStatuses.word(req.status) ?? '?' } : {}),
        ...(req.severity ? { severity: severities.word(req.severity) ?? '?' } : {}),
        ...(req.overdue && {
          overdue: levels.overdueCutoffs(await openFindingGroups(db), now()),
        }),
      };
      const rows = await listFindings(db, filter, limit + 1, decodePageToken(req.pageToken));
      const { page, nextPageToken } = paginate(rows, limit, (r) => r.created_hlc);
      return { findings: page.map(view), nextPageToken };
    },
  };
}
