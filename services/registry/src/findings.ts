import { create } from '@bufbuild/protobuf';
import { VitrineError } from '@vitrine/errors';
import {
  findingStatuses,
  type SeverityWord,
  type StatusWord,
  severities,
} from '@vitrine/proto/enum-words';
import {
  CommentAddedSchema,
  FieldVersionSchema,
  FindingCreatedSchema,
  FindingStatus,
  type FindingUpdated,
  FindingUpdatedSchema,
} from '@vitrine/proto/finding';
import type {
  AddCommentRequest,
  CreateFindingRequest,
  UpdateFindingRequest,
} from '@vitrine/proto/registry';
import type { Kysely, Selectable } from 'kysely';
import { disclosureDate } from './disclosure-date.js';
import type { EventChange, EventLog } from './event-log.js';
import { assertTransition, isFinal } from './lifecycle.js';
import { notFound } from './not-found.js';
import { artifactsIn } from './queries/artifacts.js';
import { chainReaches } from './queries/finding-links.js';
import {
  commentById,
  type FindingRow,
  fieldVersions,
  findFinding,
  findingExists,
  lockFindingRow,
  nextFindingNumber,
} from './queries/findings.js';
import type { CommentTable, RegistryDatabase } from './schema.js';
import { nextSeverity, storedScore } from './severity-rules.js';

type Db = Kysely<RegistryDatabase>;

/**
 * Findings at one center: each command checks the request against the stored state inside
 * one transaction, then appends the event that records it (which updates the state).
 */
export class Findings {
  constructor(
    private readonly db: Db,
    private readonly log: EventLog,
    private readonly centerId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a new finding on existing artifacts. Its id is `<center>-<number>`, numbered
   * 1, 2, 3, … among this center's findings whatever other events come between; the number
   * is taken under the log-head lock, so concurrent creates never share one.
   */
  async create(actor: string, req: CreateFindingRequest): Promise<FindingRow> {
    return this.log.transact(this.db, async (tx) => {
      const residency = commonResidency(await requireArtifacts(tx, req.artifactIds));
      const rated = nextSeverity(undefined, {
        severity: severities.word(req.severity),
        vector: req.cvssVector,
        reason: req.severityReason,
      });
      let id = '';
      const numbered = async (): Promise<EventChange> => {
        id = `${this.centerId}-${await nextFindingNumber(tx, this.centerId)}`;
        const value = create(FindingCreatedSchema, {
          findingId: id,
          artifactIds: req.artifactIds,
          title: req.title.trim(),
          description: req.description,
          severity: severities.value(rated.severity),
          cvssVector: rated.vector,
          ...(rated.score !== null && { cvssScore: rated.score }),
          severityReason: rated.reason,
          discloseAfter: storedDisclosureDate(req.discloseAfter),
        });
        return { case: 'findingCreated', value };
      };
      await this.log.append(tx, actor, numbered, residency);
      return mustFind(tx, id);
    });
  }

  /** Changes the fields that differ; a status change must follow the lifecycle. */
  async update(actor: string, req: UpdateFindingRequest): Promise<FindingRow> {
    return this.log.transact(this.db, async (tx) => {
      const current = await lockFinding(tx, req.id);
      const change = await this.#changeOf(tx, current, req);
      if (!change) return current;
      await this.log.append(
        tx,
        actor,
        { case: 'findingUpdated', value: change },
        current.residency,
      );
      return mustFind(tx, req.id);
    });
  }

  /** Adds a comment to a finding. */
  async comment(actor: string, req: AddCommentRequest): Promise<Selectable<CommentTable>> {
    return this.log.transact(this.db, async (tx) => {
      const finding = await lockFinding(tx, req.findingId);
      const sealed = await this.log.append(
        tx,
        actor,
        (seq) => ({
          case: 'commentAdded',
          value: create(CommentAddedSchema, {
            findingId: req.findingId,
            commentId: `${this.centerId}-${seq}`,
            text: req.text,
          }),
        }),
        finding.residency,
      );
      const id = `${this.centerId}-${sealed.header.seq}`;
      return commentById(tx, id);
    });
  }

  /** The event body for an update, holding only fields that change; undefined if none do. */
  async #changeOf(
    tx: Db,
    current: FindingRow,
    req: UpdateFindingRequest,
  ): Promise<FindingUpdated | undefined> {
    const change = create(FindingUpdatedSchema, { findingId: current.id });
    let changed = false;
    const set = <K extends keyof FindingUpdated>(
      key: K,
      value: FindingUpdated[K],
      same: boolean,
    ) => {
      if (value === undefined || same) return;
      change[key] = value;
      changed = true;
    };
    set('title', req.title?.trim(), req.title?.trim() === current.title);
    set('description', req.description, req.description === current.description);
    const rated = nextSeverity(
      {
        severity: current.severity as SeverityWord,
        vector: current.cvss_vector,
        score: storedScore(current.cvss_vector, current.cvss_score),
        reason: current.severity_reason,
      },
      {
        severity: req.severity === undefined ? undefined : severities.word(req.severity),
        vector: req.cvssVector,
        reason: req.severityReason,
      },
    );
    // The reason is written with the severity, the score with the vector.
    if (rated.severity !== current.severity || rated.reason !== current.severity_reason) {
      change.severity = severities.value(rated.severity);
      change.severityReason = rated.reason;
      changed = true;
    }
    if (rated.vector !== current.cvss_vector) {
      change.cvssVector = rated.vector;
      if (rated.score !== null) change.cvssScore = rated.score;
      changed = true;
    }
    set('assignee', req.assignee, req.assignee === current.assignee);
    set('fixArtifactId', req.fixArtifactId, req.fixArtifactId === current.fix_artifact_id);
    const embargo =
      req.discloseAfter === undefined
        ? current.disclose_after
        : storedDisclosureDate(req.discloseAfter);
    set('discloseAfter', embargo, embargo === current.disclose_after);
    const to = req.status === undefined ? undefined : findingStatuses.word(req.status);
    if (to !== undefined && to !== current.status && req.duplicateOf === undefined) {
      assertTransition(current.status as StatusWord, to);
      change.status = req.status;
      changed = true;
    }
    const fix = req.fixArtifactId ?? current.fix_artifact_id;
    if (to === 'fixed' && to !== current.status && fix === '') {
      throw new VitrineError(
        'failed_precondition',
        `finding ${current.id} can only be fixed by naming the update artifact that fixes it`,
      );
    }
    if (to === 'disclosed' && to !== current.status) this.#assertEmbargoLifted(current.id, embargo);
    if (req.fixArtifactId !== undefined) await requireUpdateArtifact(tx, req.fixArtifactId);
    if (req.duplicateOf !== undefined && req.duplicateOf !== current.duplicate_of) {
      await assertDuplicateLink(tx, current, req.duplicateOf);
      change.duplicateOf = req.duplicateOf;
      change.status = FindingStatus.DUPLICATE;
      changed = true;
    }
    if (!changed) return undefined;
    // The version of every field as this center holds it now: what this writer saw.
    change.seen = (await fieldVersions(tx, current.id)).map((v) => create(FieldVersionSchema, v));
    return change;
  }

  /** Refuses to disclose a finding before its planned disclosure date. */
  #assertEmbargoLifted(id: string, embargo: string): void {
    // Only a date in the future holds disclosure back (as Finding.disclose_after shows it).
    if (!(Date.parse(embargo) > this.now())) return;
    throw new VitrineError(
      'failed_precondition',
      `finding ${id} is under embargo until ${embargo}: it cannot be disclosed before then (change disclose_after to disclose it earlier)`,
    );
  }
}

/** A validated disclosure date in its stored form ('' for none). */
function storedDisclosureDate(text: string): string {
  return text === '' ? '' : (disclosureDate(text) ?? '');
}

async function lockFinding(tx: Db, id: string): Promise<FindingRow> {
  await lockFindingRow(tx, id);
  const row = await findFinding(tx, id);
  if (!row) throw notFound('finding', [id]);
  return row;
}

async function mustFind(tx: Db, id: string): Promise<FindingRow> {
  const row = await findFinding(tx, id);
  if (!row) throw new Error(`finding ${id} vanished inside its own transaction`);
  return row;
}

async function requireArtifacts(tx: Db, ids: readonly string[]) {
  const found = await artifactsIn(tx, ids);
  const missing = ids.filter((id) => !found.some((row) => row.id === id));
  if (missing.length > 0) throw notFound('artifact', missing);
  return found;
}

/**
 * Where a finding on these artifacts may be held: the jurisdictions every one of them may
 * be held in (empty: everywhere). A finding must be holdable somewhere its artifacts are.
 */
function commonResidency(artifacts: readonly { id: string; residency: string[] }[]): string[] {
  const restricted = artifacts.filter((a) => a.residency.length > 0);
  const [first, ...rest] = restricted;
  if (!first) return [];
  const common = first.residency.filter((j) => rest.every((a) => a.residency.includes(j)));
  if (common.length === 0) {
    throw new VitrineError(
      'failed_precondition',
      `artifacts ${restricted.map((a) => a.id).join(', ')} share no jurisdiction, so no center may hold one finding on all of them`,
    );
  }
  return common;
}

/**
 * Refuses to mark `finding` a duplicate of `original`: a final finding (FAILED_PRECONDITION,
 * as a status it cannot leave), one whose lifecycle does not allow duplicate, an original
 * not held here (NOT_FOUND), a link closing a cycle (FAILED_PRECONDITION).
 */
async function assertDuplicateLink(tx: Db, finding: FindingRow, original: string): Promise<void> {
  const status = finding.status as StatusWord;
  if (isFinal(status)) {
    throw new VitrineError(
      'failed_precondition',
      `finding ${finding.id} is ${status}, which is final: it cannot be marked a duplicate`,
    );
  }
  assertTransition(status, 'duplicate');
  if (!(await findingExists(tx, original))) throw notFound('original finding', [original]);
  if (await chainReaches(tx, original, finding.id)) {
    throw new VitrineError(
      'failed_precondition',
      `finding ${original} is, through its links, a duplicate of ${finding.id}: linking ${finding.id} to it would close a cycle`,
    );
  }
}

async function requireUpdateArtifact(tx: Db, id: string): Promise<void> {
  const [row] = await artifactsIn(tx, [id]);
  if (!row) throw notFound('fix artifact', [id]);
  if (row.kind !== 'update') {
    throw new VitrineError(
      'failed_precondition',
      `fix artifact ${id} is a ${row.kind} artifact; a fix must be an update`,
    );
  }
}
