import {
  CvssError,
  cvssBand,
  parseCvss,
  severityDisagrees,
  severityOfBand,
} from '@vitrine/advisories';
import { FieldViolations, invalidField } from '@vitrine/errors';
import type { SeverityWord } from '@vitrine/proto/enum-words';

/** A finding's severity, CVSS vector and score, and the reason for a severity off the band. */
export interface SeverityState {
  readonly severity: SeverityWord;
  /** The vector in the specification's metric order; '' for none. */
  readonly vector: string;
  /** The vector's score; null without a vector. */
  readonly score: number | null;
  /** Why the severity differs from the score's band; '' when it does not. */
  readonly reason: string;
}

/** What a request asks for: undefined leaves a part as it is. */
export interface SeverityRequest {
  readonly severity?: SeverityWord | undefined;
  readonly vector?: string | undefined;
  readonly reason?: string | undefined;
}

/**
 * The severity state after a request (`current` undefined for a new finding), by vitrine's
 * rules:
 * - a vector is parsed strictly and scored (`@vitrine/advisories`) and kept in the
 *   specification's metric order;
 * - a new vector without a severity sets the severity to the score's band (a reason given
 *   earlier spoke of the old vector, so it goes);
 * - a severity that differs from the band of the resulting vector's score needs a reason,
 *   and a reason is refused where there is nothing to explain;
 * - without a vector there is no band: any severity stands, and none is required only
 *   because a vector would have given one.
 * Throws `invalid_argument` naming the field and the problem.
 */
export function nextSeverity(
  current: SeverityState | undefined,
  req: SeverityRequest,
): SeverityState {
  const parsed = req.vector ? parseCvss(req.vector, 'cvss_vector') : undefined;
  const vector = req.vector === undefined ? (current?.vector ?? '') : (parsed?.vector ?? '');
  const score = req.vector === undefined ? (current?.score ?? null) : (parsed?.score ?? null);
  const vectorChanged = vector !== (current?.vector ?? '');
  const band = score === null ? undefined : severityOfBand(cvssBand(score));
  const severity = req.severity ?? (vectorChanged && band ? band : current?.severity) ?? band;
  if (severity === undefined) {
    throw invalidField('severity', 'is required when no cvss_vector is given');
  }
  const v = new FieldViolations();
  const given = req.reason?.trim() ?? '';
  let reason = '';
  if (score !== null && severityDisagrees(severity, cvssBand(score))) {
    // An earlier reason stands while neither the severity nor the vector changes.
    const untouched = !vectorChanged && severity === current?.severity;
    reason = given || (untouched ? (current?.reason ?? '') : '');
    v.check(
      reason !== '',
      'severity_reason',
      `severity ${severity} differs from ${band}, the band of CVSS score ${score}: say why (severity_reason), or leave the severity to the vector`,
    );
  } else if (given !== '') {
    v.add(
      'severity_reason',
      score === null
        ? 'explains a severity that differs from the CVSS band, but there is no cvss_vector'
        : `explains a severity that differs from the CVSS band, but ${severity} is the band of score ${score}`,
    );
  }
  v.throwIfAny();
  return { severity, vector, score, reason };
}

/**
 * The score of a stored vector: the stored one, else the vector's score when it parses
 * (a vector stored before scores were kept), else null.
 */
export function storedScore(vector: string, score: number | null): number | null {
  if (score !== null || vector === '') return score;
  try {
    return parseCvss(vector).score;
  } catch (err) {
    if (err instanceof CvssError) return null;
    throw err;
  }
}
