import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { parseExportFormat } from '@vitrine/advisories';
import { callerKey, principalName } from '@vitrine/credentials';
import { artifactKinds, findingStatuses, severities } from '@vitrine/proto/enum-words';
import type { Finding } from '@vitrine/proto/finding';
import { PullArtifactResponseSchema, type RegistryService } from '@vitrine/proto/registry';
import { decodePageToken, pageSize, paginate } from '@vitrine/storage';
import type { Kysely } from 'kysely';
import { type GrantedArtifact, grantOf } from './access/access-grant.js';
import { grantedArtifact, requireOnArtifacts, requireOnFinding } from './access/scoped-lookups.js';
import type { Artifacts } from './artifacts.js';
import { coalesce, utf8 } from './byte-messages.js';
import { toArtifact, toComment, toFinding, toHistoryEntry, toWatchResponse } from './convert.js';
import { exportDocument } from './export-document.js';
import { exportFindings } from './export-findings.js';
import { exportSelection } from './export-selection.js';
import type { FindingImports } from './finding-import.js';
import { importData, importStart } from './finding-import-requests.js';
import type { FindingWatch } from './finding-watch.js';
import type { Findings } from './findings.js';
import { notFound } from './not-found.js';
import { listArtifacts } from './queries/artifacts.js';
import { findingLinks } from './queries/finding-links.js';
import {
  type FindingRow,
  findingSnapshot,
  listFindings,
  openFindingGroups,
} from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';
import type { ServiceLevel, ServiceLevels } from './service-levels.js';
import {
  ARTIFACT_ID,
  ARTIFACT_ID_PREFIX,
  assertAddComment,
  assertCreateFinding,
  assertId,
  assertUpdateFinding,
  assertWatchFindings,
  FINDING_ID,
} from './validate.js';

/** Download messages carry about this many bytes: fewer, larger messages stream faster. */
const DATA_MESSAGE_BYTES = 1024 * 1024;

/** Export messages carry about this many bytes of the document. */
const EXPORT_MESSAGE_BYTES = 64 * 1024;

/**
 * Who is calling, by name, as events record it: the caller the access interceptor
 * established (see callerKey), or `operator` for a local operator where none runs.
 */
function caller(ctx: HandlerContext): string {
  const who = ctx.values.get(callerKey);
  return who === undefined || who.kind === 'newcomer' ? 'operator' : principalName(who);
}

/** The API views of finding rows, with their duplicate links as the caller may see them. */
async function findingViews(
  db: Kysely<RegistryDatabase>,
  ctx: HandlerContext,
  rows: readonly FindingRow[],
  levelOf: (row: FindingRow) => ServiceLevel,
): Promise<Finding[]> {
  const links = await findingLinks(db, rows, grantOf(ctx).limit());
  return rows.map((row) =>
    toFinding(
      row,
      links.get(row.id) ?? { duplicates: [], effectiveStatus: row.status },
      levelOf(row),
    ),
  );
}

/** The API view of one finding row (see findingViews). */
async function findingView(
  db: Kysely<RegistryDatabase>,
  ctx: HandlerContext,
  row: FindingRow,
  levelOf: (row: FindingRow) => ServiceLevel,
): Promise<Finding> {
  const [view] = await findingViews(db, ctx, [row], levelOf);
  if (view === undefined) throw new Error(`no view of finding ${row.id}`);
  return view;
}

/** The registry's RPC handlers: each validates at the boundary and calls domain code. */
export function registryService(
  db: Kysely<RegistryDatabase>,
  artifacts: Artifacts,
  findings: Findings,
  parts: {
    readonly centerId: string;
    readonly imports: FindingImports;
    readonly watch: FindingWatch;
    readonly levels: ServiceLevels;
  },
  now: () => number = Date.now,
): ServiceImpl<typeof RegistryService> {
  const { centerId, imports, watch, levels } = parts;
  const levelOf = (row: FindingRow) => levels.of(row, now());
  const view = (ctx: HandlerContext, row: FindingRow) => findingView(db, ctx, row, levelOf);
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
      return { finding: await view(ctx, await findings.create(caller(ctx), req)) };
    },

    async updateFinding(req, ctx) {
      assertUpdateFinding(req);
      await requireOnFinding(ctx, db, 'review', req.id);
      if (req.fixArtifactId !== undefined) {
        await requireOnArtifacts(ctx, db, 'review', [req.fixArtifactId], 'fix artifact');
      }
      if (req.duplicateOf !== undefined) await requireOnFinding(ctx, db, 'read', req.duplicateOf);
      return { finding: await view(ctx, await findings.update(caller(ctx), req)) };
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
        finding: await view(ctx, snapshot.row),
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
        ...(req.candidateFix ? { candidateFix: true } : {}),
        ...(req.overdue && {
          overdue: levels.overdueCutoffs(await openFindingGroups(db), now()),
        }),
      };
      const rows = await listFindings(db, filter, limit + 1, decodePageToken(req.pageToken));
      const { page, nextPageToken } = paginate(rows, limit, (r) => r.created_hlc);
      return { findings: await findingViews(db, ctx, page, levelOf), nextPageToken };
    },

    async *exportFindings(req, ctx) {
      const format = parseExportFormat(req.format);
      const { selection, label, product } = await exportSelection(
        ctx,
        db,
        artifacts,
        req.selection,
      );
      const grant = grantOf(ctx);
      const found = exportFindings(db, selection, (a) => grant.covers('read', a));
      const subject = {
        centerId,
        single: selection.kind === 'finding',
        label,
        ...(product !== undefined ? { product } : {}),
        now: new Date(),
      };
      const text = exportDocument(format, found, subject);
      for await (const data of coalesce(utf8(text, EXPORT_MESSAGE_BYTES), EXPORT_MESSAGE_BYTES)) {
        yield { data };
      }
    },

    async importFindings(requests, ctx) {
      const iterator = requests[Symbol.asyncIterator]();
      const start = await importStart(iterator);
      await requireOnArtifacts(ctx, db, 'review', [start.artifactId], 'artifact', {
        artifactId: start.artifactId,
      });
      const data = importData({ [Symbol.asyncIterator]: () => iterator });
      const grant = grantOf(ctx);
      const mayReview = (artifact: GrantedArtifact) => grant.covers('review', artifact);
      const outcome = await imports.import(
        caller(ctx),
        start.artifactId,
        data,
        ctx.signal,
        mayReview,
      );
      return { ...outcome, bytes: BigInt(outcome.bytes) };
    },

    async *watchFindings(req, ctx) {
      assertWatchFindings(req);
      const within = grantOf(ctx).listable('read');
      const filter = {
        ...(within ? { within } : {}),
        ...(req.product ? { product: req.product } : {}),
        ...(req.status ? { status: findingStatuses.word(req.status) ?? '?' } : {}),
        ...(req.severity ? { severity: severities.word(req.severity) ?? '?' } : {}),
      };
      const from = await watch.from(req.after);
      for await (const item of watch.watch(from, filter, ctx.signal)) {
        yield toWatchResponse(item, watch.token(item.position));
      }
    },
  };
}
