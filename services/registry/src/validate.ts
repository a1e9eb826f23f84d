import { FieldViolations } from '@vitrine/errors';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import type {
  AddCommentRequest,
  CreateFindingRequest,
  PushArtifactMetadata,
  UpdateFindingRequest,
} from '@vitrine/proto/registry';

/** Artifact ids are lowercase hex SHA-256 digests of the manifest. */
export const ARTIFACT_ID = /^[0-9a-f]{64}$/;
/** A short artifact id, as ListArtifacts accepts it: 4 to 64 leading hex digits. */
export const ARTIFACT_ID_PREFIX = /^[0-9a-f]{4,64}$/;
/**
 * Finding ids are `<origin center>-<number>` (the origin's count of its findings, or, for
 * findings recorded before that count, their event's sequence); comment ids are
 * `<origin center>-<sequence of the event>`.
 */
export const FINDING_ID = /^[a-z][a-z0-9-]{0,62}-[1-9][0-9]{0,18}$/;

const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._+:/@-]*$/u;
// CVSS v3.0/v3.1 vectorString patterns from the FIRST JSON schemas (as bundled with CSAF 2.0).
const CVSS3_METRIC =
  'AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH]';
const CVSS3 = new RegExp(`^CVSS:3[.][01]/((${CVSS3_METRIC})/)*(${CVSS3_METRIC})$`);
// CVSS v4.0 (FIRST specification §7): base metrics, then any supplemental ones.
const CVSS4 =
  /^CVSS:4[.]0\/AV:[NALP]\/AC:[LH]\/AT:[NP]\/PR:[NLH]\/UI:[NPA]\/VC:[HLN]\/VI:[HLN]\/VA:[HLN]\/SC:[HLN]\/SI:[HLN]\/SA:[HLN](\/[A-Z]{1,3}:[A-Z])*$/;

/** Largest text sizes a finding accepts. */
export const LIMITS = {
  name: 128,
  title: 200,
  description: 20_000,
  comment: 10_000,
  artifactsPerFinding: 100,
  assignee: 128,
} as const;

/** Checks the first message of an upload; `jurisdictions` are the federation's codes. */
export function assertPushMetadata(
  meta: PushArtifactMetadata,
  jurisdictions: readonly string[],
): void {
  const v = new FieldViolations();
  v.check(
    meta.kind !== ArtifactKind.UNSPECIFIED && ArtifactKind[meta.kind] !== undefined,
    'metadata.kind',
    'must be source, update or rules',
  );
  checkName(v, 'metadata.product', meta.product);
  checkName(v, 'metadata.version', meta.version);
  meta.residency.forEach((code, i) => {
    v.check(
      jurisdictions.includes(code),
      `metadata.residency[${i}]`,
      `unknown jurisdiction "${code}" (known: ${jurisdictions.join(', ')})`,
    );
  });
  v.check(
    new Set(meta.residency).size === meta.residency.length,
    'metadata.residency',
    'lists a jurisdiction twice',
  );
  v.check(
    meta.supersedes === '' || ARTIFACT_ID.test(meta.supersedes),
    'metadata.supersedes',
    'must be an artifact id (64 hex digits)',
  );
  v.check(
    !meta.widenResidency || meta.supersedes !== '',
    'metadata.widen_residency',
    'applies only to an upload that supersedes an artifact',
  );
  v.check(
    meta.expectedDigest.length === 0 || meta.expectedDigest.length === 32,
    'metadata.expected_digest',
    'must be a 32-byte SHA-256 digest',
  );
  v.throwIfAny('upload');
}

/** Checks a new finding. */
export function assertCreateFinding(req: CreateFindingRequest): void {
  const v = new FieldViolations();
  v.check(req.artifactIds.length > 0, 'artifact_ids', 'name at least one artifact');
  v.check(
    req.artifactIds.length <= LIMITS.artifactsPerFinding,
    'artifact_ids',
    `at most ${LIMITS.artifactsPerFinding} artifacts`,
  );
  req.artifactIds.forEach((id, i) => {
    v.check(ARTIFACT_ID.test(id), `artifact_ids[${i}]`, 'must be an artifact id (64 hex digits)');
  });
  v.check(new Set(req.artifactIds).size === req.artifactIds.length, 'artifact_ids', 'duplicate id');
  checkText(v, 'title', req.title, LIMITS.title, true);
  checkText(v, 'description', req.description, LIMITS.description, false);
  checkSeverity(v, 'severity', req.severity);
  checkCvss(v, 'cvss_vector', req.cvssVector);
  v.throwIfAny();
}

/** Checks a finding update (lifecycle rules are checked against the stored finding). */
export function assertUpdateFinding(req: UpdateFindingRequest): void {
  const v = new FieldViolations();
  v.check(FINDING_ID.test(req.id), 'id', 'must be a finding id such as europe-17');
  if (req.title !== undefined) checkText(v, 'title', req.title, LIMITS.title, true);
  if (req.description !== undefined) {
    checkText(v, 'description', req.description, LIMITS.description, false);
  }
  if (req.severity !== undefined) checkSeverity(v, 'severity', req.severity);
  if (req.cvssVector !== undefined) checkCvss(v, 'cvss_vector', req.cvssVector);
  if (req.status !== undefined) {
    v.check(
      req.status !== FindingStatus.UNSPECIFIED && FindingStatus[req.status] !== undefined,
      'status',
      'unknown status',
    );
  }
  if (req.assignee !== undefined) checkText(v, 'assignee', req.assignee, LIMITS.assignee, false);
  if (req.fixArtifactId !== undefined) {
    v.check(ARTIFACT_ID.test(req.fixArtifactId), 'fix_artifact_id', 'must be an artifact id');
  }
  v.throwIfAny();
}

/** Checks a new comment. */
export function assertAddComment(req: AddCommentRequest): void {
  const v = new FieldViolations();
  v.check(FINDING_ID.test(req.findingId), 'finding_id', 'must be a finding id such as europe-17');
  checkText(v, 'text', req.text, LIMITS.comment, true);
  v.throwIfAny();
}

/** Checks an id argument of a lookup. */
export function assertId(field: string, id: string, pattern: RegExp, what: string): void {
  new FieldViolations().check(pattern.test(id), field, `must be ${what}`).throwIfAny();
}

function checkName(v: FieldViolations, field: string, value: string): void {
  if (value.length === 0) v.add(field, 'is required');
  else if (value.length > LIMITS.name) v.add(field, `at most ${LIMITS.name} characters`);
  else if (!NAME.test(value)) v.add(field, 'letters, digits, space and . _ + : / @ - only');
}

function checkText(v: FieldViolations, field: string, value: string, max: number, need: boolean) {
  if (need && value.trim().length === 0) v.add(field, 'is required');
  else if (value.length > max) v.add(field, `at most ${max} characters`);
}

function checkSeverity(v: FieldViolations, field: string, severity: Severity): void {
  v.check(
    severity !== Severity.UNSPECIFIED && Severity[severity] !== undefined,
    field,
    'must be info, low, medium, high or critical',
  );
}

function checkCvss(v: FieldViolations, field: string, vector: string): void {
  v.check(
    vector === '' || CVSS3.test(vector) || CVSS4.test(vector),
    field,
    'must be a CVSS v3.x or v4.0 vector string',
  );
}
