import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import { CvssError, cvssBand, parseCvss, severityDisagrees, severityOfBand } from '../src/cvss.js';

const vectors = new URL('./vectors/cvss/', import.meta.url);

function lines(file: string): string[] {
  return readFileSync(new URL(file, vectors), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Red Hat's `VECTOR - (base, temporal, environmental)` or `VECTOR - score` lines. */
function redHat(file: string): Array<{ vector: string; scores: number[] }> {
  return lines(file).map((line) => {
    const [vector, scores] = line.split(' - ') as [string, string];
    return {
      vector,
      scores: scores
        .replace(/[()]/g, '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map(Number),
    };
  });
}

describe('FIRST specification examples (CVSS v3.0 and v3.1)', () => {
  const cases = lines('first-examples-v3.txt').map((line) => {
    const [vector, score, severity, ...label] = line.split(' ');
    return { vector: vector as string, score: Number(score), severity, label: label.join(' ') };
  });
  it('has the examples', () => expect(cases.length).toBe(43));
  it.each(cases)('$label $vector = $score $severity', ({ vector, score, severity }) => {
    const parsed = parseCvss(vector);
    expect(parsed.score).toBe(score);
    expect(parsed.severity).toBe(severity?.toLowerCase());
  });
});

describe('Red Hat cvss test data', () => {
  for (const file of [
    'redhat_vectors_simple3.txt',
    'redhat_vectors_simple31.txt',
    'redhat_vectors_calculator3.txt',
    'redhat_vectors_cvsslib3.txt',
  ]) {
    it(`${file}: base, temporal and environmental scores`, () => {
      const cases = redHat(file);
      expect(cases.length).toBeGreaterThan(0);
      for (const { vector, scores } of cases) {
        const parsed = parseCvss(vector);
        const [base, temporal, environmental] = scores;
        expect([vector, parsed.baseScore]).toEqual([vector, base]);
        expect([vector, parsed.score]).toEqual([vector, base]);
        if (parsed.temporalScore !== undefined) {
          expect([vector, parsed.temporalScore]).toEqual([vector, temporal]);
        } else {
          expect([vector, temporal]).toEqual([vector, base]);
        }
        if (parsed.environmentalScore !== undefined) {
          expect([vector, parsed.environmentalScore]).toEqual([vector, environmental]);
        }
      }
    });
  }
  for (const file of [
    'redhat_vectors_simple4.txt',
    'redhat_vectors_security4.txt',
    'redhat_vectors_threat4.txt',
    'redhat_vectors_supplemental4.txt',
  ]) {
    it(`${file}: CVSS v4.0 scores`, () => {
      const cases = redHat(file);
      expect(cases.length).toBeGreaterThan(0);
      for (const { vector, scores } of cases) {
        const parsed = parseCvss(vector);
        expect([vector, parsed.score]).toEqual([vector, scores[0]]);
        expect(parsed.severity).toBe(cvssBand(scores[0] as number));
      }
    });
  }
});

describe('metaeffekt calculator test data', () => {
  it('CVSS v3.0 vectors with temporal and environmental metrics', () => {
    const cases = lines('metaeffekt_cvss-3.0-validation-vectors-002.txt');
    expect(cases.length).toBeGreaterThan(100);
    for (const line of cases) {
      const [vector, base, temporal, environmental] = line.split(' ') as [
        string,
        string,
        string,
        string,
      ];
      const parsed = parseCvss(`CVSS:3.0/${vector}`);
      expect([vector, parsed.baseScore]).toEqual([vector, Number(base)]);
      expect([vector, parsed.temporalScore ?? parsed.baseScore]).toEqual([
        vector,
        Number(temporal),
      ]);
      // NaN: no environmental metric defined, so no environmental score.
      const expected = Number.isNaN(Number(environmental)) ? undefined : Number(environmental);
      expect([vector, parsed.environmentalScore]).toEqual([vector, expected]);
    }
  });
  it('CVSS v4.0 vectors across every metric group', () => {
    const cases = lines('metaeffekt_cvss-4.0-validation-vectors-001.txt');
    expect(cases.length).toBeGreaterThan(300);
    for (const line of cases) {
      const [vector, , score] = line.split(' ') as [string, string, string];
      expect([vector, parseCvss(vector).score]).toEqual([vector, Number(score)]);
    }
  });
});

describe('strict parsing', () => {
  const base31 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
  const base40 = 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N';

  it('returns the vector in the specification order, not-defined values left out', () => {
    const parsed = parseCvss('CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:X/RL:O');
    expect(parsed.vector).toBe(`${base31}/RL:O`);
    expect(parsed.metrics.RL).toBe('O');
    expect(parsed.metrics.E).toBeUndefined();
    expect(parsed.temporalScore).toBe(9.4);
    expect(parseCvss(`${base40}/E:U`).nomenclature).toBe('CVSS-BT');
    expect(parseCvss(`${base40}/MAV:L`).nomenclature).toBe('CVSS-BE');
    expect(parseCvss(base40).nomenclature).toBe('CVSS-B');
    expect(parseCvss(`${base40}/U:Red`).vector).toBe(`${base40}/U:Red`);
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      'a metric given twice',
      'CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      /AV is given more than once/,
    ],
    ['a metric given twice with the same value', `${base31}/C:H`, /C is given more than once/],
    ['one metric only', 'CVSS:3.1/AV:N', /base metrics AC, PR, UI, S, C, I, A missing/],
    ['a missing base metric', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H', /base metric A missing/],
    [
      'a missing v4.0 base metric',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N',
      /base metric SA missing/,
    ],
    ['an unknown metric', `${base31}/FOO:X`, /unknown metric FOO/],
    ['a v4.0 metric in a v3.1 vector', `${base31}/AT:N`, /unknown metric AT in CVSS 3.1/],
    ['a v3 metric in a v4.0 vector', `${base40}/C:H`, /unknown metric C in CVSS 4.0/],
    [
      'an unknown value',
      'CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      /AV:Q is not a value of AV/,
    ],
    ['X for a base metric', 'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /AV:X is not a value/],
    ['no prefix', 'AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /must start with CVSS/],
    ['a wrong prefix', 'CVSS3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', /must start with CVSS/],
    [
      'an unsupported version',
      'CVSS:2.0/AV:N/AC:L/Au:N/C:C/I:C/A:C',
      /version 2.0 is not supported/,
    ],
    ['a trailing slash', `${base31}/`, /"" is not a metric:value pair/],
    [
      'an empty part',
      'CVSS:3.1/AV:N//AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      /"" is not a metric:value pair/,
    ],
    ['a part without value', `${base31}/E`, /"E" is not a metric:value pair/],
    ['a part with two colons', `${base31}/E:F:F`, /"E:F:F" is not a metric:value pair/],
    ['lower case', base31.toLowerCase(), /must start with CVSS/],
    ['an empty string', '', /empty vector/],
    ['a huge string', `${base31}/${'E:F/'.repeat(200)}`, /longer than 512/],
  ];
  it.each(bad)('refuses %s', (_what, vector, message) => {
    let caught: unknown;
    try {
      parseCvss(vector, 'cvss');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CvssError);
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    const err = caught as CvssError;
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toMatch(message);
    expect(err.violations[0]?.field).toBe('cvss');
  });
});

describe('severity bands', () => {
  it('follows the FIRST rating scale at its edges', () => {
    expect([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(cvssBand)).toEqual([
      'none',
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
    expect(() => cvssBand(10.1)).toThrow(RangeError);
    expect(() => cvssBand(Number.NaN)).toThrow(RangeError);
    expect(severityOfBand('none')).toBe('info');
  });

  it('tells when a hand-given severity disagrees with the score', () => {
    const critical = parseCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H');
    expect(critical.score).toBe(9.8);
    expect(severityDisagrees('low', critical)).toBe(true);
    expect(severityDisagrees('critical', critical)).toBe(false);
    const none = parseCvss('CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N');
    expect(severityDisagrees('info', none)).toBe(false);
    expect(severityDisagrees('low', none)).toBe(true);
    expect(severityDisagrees('medium', 'medium')).toBe(false);
  });
});
