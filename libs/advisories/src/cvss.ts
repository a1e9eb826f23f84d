import { InvalidArgumentError } from '@vitrine/errors';
import calculator from 'ae-cvss-calculator';

/** CVSS versions vitrine scores. */
export type CvssVersion = '3.0' | '3.1' | '4.0';

/** FIRST's qualitative severity rating scale (the same bands for v3.x and v4.0). */
export type CvssBand = 'none' | 'low' | 'medium' | 'high' | 'critical';

/** A finding's severity as vitrine records it. */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** A parsed, scored CVSS vector. */
export interface CvssScore {
  readonly version: CvssVersion;
  /** The vector in the specification's metric order, `X` (not defined) values left out. */
  readonly vector: string;
  /** Every metric given, by abbreviation, with its value (`X` values left out). */
  readonly metrics: Readonly<Record<string, string>>;
  /**
   * The score the severity is read from: the base score for v3.x (as NVD and CSAF report
   * it), the one v4.0 score (its nomenclature says which metric groups went into it).
   */
  readonly score: number;
  /** The band of `score`. */
  readonly severity: CvssBand;
  /** v3.x: base score; v4.0: the same as `score`. */
  readonly baseScore: number;
  /** v3.x, when a temporal metric is given. */
  readonly temporalScore?: number;
  /** v3.x, when an environmental metric is given. */
  readonly environmentalScore?: number;
  /** v4.0: CVSS-B, CVSS-BT, CVSS-BE or CVSS-BTE. */
  readonly nomenclature?: 'CVSS-B' | 'CVSS-BT' | 'CVSS-BE' | 'CVSS-BTE';
}

interface MetricSpec {
  readonly values: readonly string[];
  /** Base metrics must appear exactly once; the others at most once. */
  readonly base: boolean;
  readonly group: 'base' | 'temporal' | 'threat' | 'environmental' | 'supplemental';
}

type MetricTable = ReadonlyMap<string, MetricSpec>;

function table(
  groups: ReadonlyArray<readonly [MetricSpec['group'], Record<string, string>]>,
): MetricTable {
  const map = new Map<string, MetricSpec>();
  for (const [group, metrics] of groups) {
    for (const [name, values] of Object.entries(metrics)) {
      map.set(name, { values: values.split(','), base: group === 'base', group });
    }
  }
  return map;
}

// CVSS v3.0 and v3.1 specification, section 6 (vector string), table of metrics and values.
const V3 = table([
  [
    'base',
    {
      AV: 'N,A,L,P',
      AC: 'L,H',
      PR: 'N,L,H',
      UI: 'N,R',
      S: 'U,C',
      C: 'H,L,N',
      I: 'H,L,N',
      A: 'H,L,N',
    },
  ],
  ['temporal', { E: 'X,H,F,P,U', RL: 'X,U,W,T,O', RC: 'X,C,R,U' }],
  [
    'environmental',
    {
      CR: 'X,H,M,L',
      IR: 'X,H,M,L',
      AR: 'X,H,M,L',
      MAV: 'X,N,A,L,P',
      MAC: 'X,L,H',
      MPR: 'X,N,L,H',
      MUI: 'X,N,R',
      MS: 'X,U,C',
      MC: 'X,H,L,N',
      MI: 'X,H,L,N',
      MA: 'X,H,L,N',
    },
  ],
]);

// CVSS v4.0 specification, section 7 (vector string), table 23.
const V4 = table([
  [
    'base',
    {
      AV: 'N,A,L,P',
      AC: 'L,H',
      AT: 'N,P',
      PR: 'N,L,H',
      UI: 'N,P,A',
      VC: 'H,L,N',
      VI: 'H,L,N',
      VA: 'H,L,N',
      SC: 'H,L,N',
      SI: 'H,L,N',
      SA: 'H,L,N',
    },
  ],
  ['threat', { E: 'X,A,P,U' }],
  [
    'environmental',
    {
      CR: 'X,H,M,L',
      IR: 'X,H,M,L',
      AR: 'X,H,M,L',
      MAV: 'X,N,A,L,P',
      MAC: 'X,L,H',
      MAT: 'X,N,P',
      MPR: 'X,N,L,H',
      MUI: 'X,N,P,A',
      MVC: 'X,H,L,N',
      MVI: 'X,H,L,N',
      MVA: 'X,H,L,N',
      MSC: 'X,H,L,N',
      MSI: 'X,S,H,L,N',
      MSA: 'X,S,H,L,N',
    },
  ],
  [
    'supplemental',
    {
      S: 'X,N,P',
      AU: 'X,N,Y',
      R: 'X,A,U,I',
      V: 'X,D,C',
      RE: 'X,L,M,H',
      U: 'X,Clear,Green,Amber,Red',
    },
  ],
]);

const TABLES: Record<CvssVersion, MetricTable> = { '3.0': V3, '3.1': V3, '4.0': V4 };

/** Longest vector accepted: every v4.0 metric with its longest value fits well within it. */
const MAX_VECTOR_LENGTH = 512;

/** A CVSS vector that breaks the specification's vector-string rules. */
export class CvssError extends InvalidArgumentError {
  constructor(field: string, problem: string) {
    super(`invalid CVSS vector: ${problem}`, [{ field, message: problem }]);
  }
}

/**
 * Parses a CVSS v3.0, v3.1 or v4.0 vector string strictly: the `CVSS:<version>/` prefix,
 * every base metric exactly once, no metric twice, no unknown metric or value, no empty
 * part. Metrics may come in any order (both specifications allow it); the returned
 * vector is in the specification's order. Throws `CvssError` (invalid_argument) naming
 * the problem; `field` names the request field in that error.
 */
export function parseCvss(vector: string, field = 'cvss_vector'): CvssScore {
  if (typeof vector !== 'string' || vector.length === 0) {
    throw new CvssError(field, 'empty vector');
  }
  if (vector.length > MAX_VECTOR_LENGTH) {
    throw new CvssError(field, `longer than ${MAX_VECTOR_LENGTH} characters`);
  }
  const prefix = /^CVSS:(\d+\.\d+)\//.exec(vector);
  if (prefix === null) {
    throw new CvssError(field, 'must start with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/');
  }
  const version = prefix[1] as string;
  if (version !== '3.0' && version !== '3.1' && version !== '4.0') {
    throw new CvssError(field, `CVSS version ${version} is not supported (3.0, 3.1, 4.0)`);
  }
  const metricTable = TABLES[version];
  const given = new Map<string, string>();
  for (const part of vector.slice(prefix[0].length).split('/')) {
    const colon = part.indexOf(':');
    if (
      part === '' ||
      colon <= 0 ||
      colon === part.length - 1 ||
      part.indexOf(':', colon + 1) >= 0
    ) {
      throw new CvssError(field, `"${part}" is not a metric:value pair`);
    }
    const name = part.slice(0, colon);
    const value = part.slice(colon + 1);
    const spec = metricTable.get(name);
    if (spec === undefined) {
      throw new CvssError(field, `unknown metric ${name} in CVSS ${version}`);
    }
    if (given.has(name)) {
      throw new CvssError(field, `metric ${name} is given more than once`);
    }
    if (!spec.values.includes(value)) {
      throw new CvssError(
        field,
        `${name}:${value} is not a value of ${name} (one of ${spec.values.join(', ')})`,
      );
    }
    given.set(name, value);
  }
  const missing = [...metricTable].filter(([name, spec]) => spec.base && !given.has(name));
  if (missing.length > 0) {
    throw new CvssError(
      field,
      `base metric${missing.length > 1 ? 's' : ''} ${missing.map(([n]) => n).join(', ')} missing`,
    );
  }
  const metrics: Record<string, string> = {};
  const parts = [`CVSS:${version}`];
  for (const name of metricTable.keys()) {
    const value = given.get(name);
    if (value === undefined || value === 'X') continue;
    metrics[name] = value;
    parts.push(`${name}:${value}`);
  }
  const canonical = parts.join('/');
  return version === '4.0' ? score4(canonical, metrics) : score3(version, canonical, metrics);
}

function score3(
  version: '3.0' | '3.1',
  vector: string,
  metrics: Record<string, string>,
): CvssScore {
  const cvss = version === '3.0' ? new calculator.Cvss3P0(vector) : new calculator.Cvss3P1(vector);
  const scores = cvss.calculateScores();
  const base = finite(scores.base, vector);
  const hasGroup = (group: MetricSpec['group']) =>
    Object.keys(metrics).some((name) => V3.get(name)?.group === group);
  return {
    version,
    vector,
    metrics,
    score: base,
    severity: cvssBand(base),
    baseScore: base,
    ...(hasGroup('temporal') ? { temporalScore: finite(scores.temporal, vector) } : {}),
    ...(hasGroup('environmental')
      ? { environmentalScore: finite(scores.environmental, vector) }
      : {}),
  };
}

function score4(vector: string, metrics: Record<string, string>): CvssScore {
  const score = finite(new calculator.Cvss4P0(vector).calculateScores().overall, vector);
  const threat = Object.keys(metrics).some((name) => V4.get(name)?.group === 'threat');
  const environmental = Object.keys(metrics).some(
    (name) => V4.get(name)?.group === 'environmental',
  );
  const nomenclature = threat
    ? environmental
      ? 'CVSS-BTE'
      : 'CVSS-BT'
    : environmental
      ? 'CVSS-BE'
      : 'CVSS-B';
  return {
    version: '4.0',
    vector,
    metrics,
    score,
    severity: cvssBand(score),
    baseScore: score,
    nomenclature,
  };
}

function finite(value: number | undefined, vector: string): number {
  if (value === undefined || !Number.isFinite(value)) {
    // The vector passed the strict grammar, so the calculator always scores it.
    throw new Error(`the CVSS calculator gave no score for ${vector}`);
  }
  // Scores are one decimal; the calculator's arithmetic can leave -0 or 1e-15 noise.
  return Math.round(value * 10) / 10 + 0;
}

/** FIRST's qualitative rating of a score (v3.x and v4.0 use the same bands). */
export function cvssBand(score: number): CvssBand {
  if (!(score >= 0 && score <= 10)) throw new RangeError(`not a CVSS score: ${score}`);
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

/** The severity that a band stands for: `none` is recorded as `info`. */
export function severityOfBand(band: CvssBand): Severity {
  return band === 'none' ? 'info' : band;
}

/**
 * Whether a severity given by hand disagrees with the band of the vector's score (then the
 * registry asks for a reason and keeps it in the finding's history). `info` agrees with
 * the `none` band.
 */
export function severityDisagrees(severity: Severity, score: CvssScore | CvssBand): boolean {
  const band = typeof score === 'string' ? score : score.severity;
  return severityOfBand(band) !== severity;
}
