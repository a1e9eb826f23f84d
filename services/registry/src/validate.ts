import { CvssError, parseCvss } from '@vitrine/advisories';
import { FieldViolations } from '@vitrine/errors';
import { ArtifactKind } from '@vitrine/proto/artifact';
import { FindingStatus, Severity } from '@vitrine/proto/finding';
import type {
  AddCommentRequest,
  CreateFindingRequest,
  PushArtifactMetadata,
  UpdateFindingRequest,
  WatchFindingsRequest,
} from '@vitrine/proto/registry';
import { DISCLOSURE_DATE_FORMS, disclosureDate } from './disclosure-date.js';

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
/** Largest text sizes a finding accepts. */
export const LIMITS = {
  name: 128,
  title: 200,
  description: 20_000,
  comment: 10_000,
  artifactsPerFinding: 100,
  assignee: 128,
  severityReason: 2_000,
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
  // Without a severity, the band of a (valid) vector's score is the severity.
  const scored = checkCvss(v, 'cvss_vector', req.cvssVector) && req.cvssVector !== '';
  if (!scored || req.severity !== Severity.UNSPECIFIED) {
    checkSeverity(v, 'severity', req.severity);
  }
  checkText(v, 'severity_reason', req.severityReason, LIMITS.severityReason, false);
  checkDisclosureDate(v, req.discloseAfter);
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
  if (req.severityReason !== undefined) {
    checkText(v, 'severity_reason', req.severityReason, LIMITS.severityReason, false);
  }
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
  if (req.duplicateOf !== undefined) checkDuplicateOf(v, req);
  if (req.discloseAfter !== undefined) checkDisclosureDate(v, req.discloseAfter);
  v.throwIfAny();
}

/** A duplicate names another finding, and its status (when given) is duplicate. */
function checkDuplicateOf(v: FieldViolations, req: UpdateFindingRequest): void {
  const original = req.duplicateOf ?? '';
  if (!FINDING_ID.test(original)) {
    v.add('duplicate_of', 'must be a finding id such as asia-3');
  } else {
    v.check(original !== req.id, 'duplicate_of', 'a finding cannot be a duplicate of itself');
  }
  v.check(
    req.status === undefined || req.status === FindingStatus.DUPLICATE,
    'status',
    'must be duplicate (or left out) with duplicate_of',
  );
}

/** A planned disclosure date is empty (none) or one of DISCLOSURE_DATE_FORMS. */
function checkDisclosureDate(v: FieldViolations, text: string): void {
  v.check(
    text === '' || disclosureDate(text) !== undefined,
    'disclose_after',
    `must be ${DISCLOSURE_DATE_FORMS}, not "${text.slice(0, 64)}"`,
  );
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
    'must be info, low, medium, high or critical (or left out with a cvss_vector)',
  );
}

/**
 * A CVSS vector parses strictly (every base metric once, nothing unknown), or is empty;
 * false (with the problem recorded) when it does not.
 */
function checkCvss(v: FieldViolations, field: string, vector: string): boolean {
  if (vector === '') return true;
  try {
    parseCvss(vector, field);
    return true;
  } catch (err) {
    if (!(err instanceof CvssError)) throw err;
    for (const violation of err.violations) v.add(violation.field, violation.message);
    return false;
  }
}

/** Checks a WatchFindings request's filters (its position is checked against the log). */
export function assertWatchFindings(req: WatchFindingsRequest): void {
  const v = new FieldViolations();
  if (req.product !== '') {
    v.check(
      req.product.length <= LIMITS.name && NAME.test(req.product),
      'product',
      `a product name: at most ${LIMITS.name} characters, starting with a letter or digit`,
    );
  }
  v.throwIfAny();
}
