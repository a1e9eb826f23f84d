import { readdirSync } from 'node:fs';
import { InvalidArgumentError, isVitrineError } from '@vitrine/errors';
import { describe, expect, it } from 'vitest';
import { toCsafAdvisory, toCsafVex } from '../src/csaf.js';
import { osvForProduct, toOsv } from '../src/osv.js';
import { MANUAL_RULE, writeSarif } from '../src/sarif-export.js';
import { readSarif } from '../src/sarif-import.js';
import { all, artifacts, findings } from './fixtures.js';
import {
  csafValidator,
  vectorJson as json,
  mandatoryTests,
  osvValidator,
  sarifValidator,
} from './validators.js';

const vectors = new URL('./vectors/', import.meta.url);
const osvSchema = osvValidator();
const csafValid = csafValidator();

const options = {
  publisher: { name: 'Example Networks', namespace: 'https://networks.example' },
  trackingId: 'EXN-2026-0001',
  title: 'Router OS and Edge Gateway: findings',
  now: '2026-12-01T12:00:00Z',
} as const;

describe('OSV', () => {
  it('the validator accepts the published OSV records and refuses an unprefixed local id', () => {
    for (const file of readdirSync(new URL('osv/records/', vectors))) {
      expect([file, osvSchema(json(`osv/records/${file}`))]).toEqual([file, true]);
    }
    const record = toOsv(findings.disclosed);
    expect(osvSchema({ ...record, id: 'VITRINE-europe-1' })).toBe(false);
  });

  it('writes every finding as a valid record with an x_ id', () => {
    for (const finding of all) {
      const record = toOsv(finding);
      expect([finding.id, osvSchema(record), osvSchema.errors]).toEqual([finding.id, true, null]);
      expect(record.id).toBe(`x_VITRINE-${finding.id}`);
      expect(record.schema_version).toBe('1.7.5');
    }
  });

  it('maps score, versions, fix, withdrawal and duplicates', () => {
    const disclosed = toOsv(findings.disclosed);
    expect(disclosed.severity).toEqual([
      { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    ]);
    expect(disclosed.published).toBe('2026-11-20T10:00:00.000Z');
    expect(disclosed.modified).toBe('2026-11-20T10:30:00.250Z');
    expect(disclosed.aliases).toEqual(['CVE-2026-10001', 'GHSA-xxxx-yyyy-zzzz']);
    expect(disclosed.affected).toEqual([
      {
        versions: ['4.2'],
        database_specific: {
          product: 'router-os',
          artifacts: [artifacts.source42.id, artifacts.update42.id],
          fixed: { version: '4.2.1', artifact: artifacts.update421.id },
        },
      },
    ]);
    expect(toOsv(findings.inProgress).severity?.[0]?.type).toBe('CVSS_V4');
    expect(toOsv(findings.rejected).withdrawn).toBe('2026-11-20T10:30:00.250Z');
    const duplicate = toOsv(findings.duplicate);
    expect([duplicate.withdrawn, duplicate.related]).toEqual([
      '2026-11-20T10:30:00.250Z',
      ['x_VITRINE-europe-1'],
    ]);
    const npm = toOsv(findings.disclosed, {
      packageOf: (p) =>
        p === 'router-os' ? { ecosystem: 'npm', name: '@example/router-os' } : undefined,
      idPrefix: 'x_EXN-',
    });
    expect(npm.id).toBe('x_EXN-europe-1');
    expect(npm.affected[0]?.package).toEqual({ ecosystem: 'npm', name: '@example/router-os' });
    expect(osvSchema(npm)).toBe(true);
  });

  it('lists per product only the findings and versions of that product', async () => {
    const records = [];
    for await (const record of osvForProduct(all, 'edge-gateway')) records.push(record);
    expect(records.map((r) => r.id)).toEqual(['x_VITRINE-asia-4', 'x_VITRINE-us-2']);
    for (const r of records) {
      expect(r.affected.map((a) => a.database_specific.product)).toEqual(['edge-gateway']);
      expect(osvSchema(r)).toBe(true);
    }
  });

  it('refuses an id prefix without x_', async () => {
    expect(() => toOsv(findings.disclosed, { idPrefix: 'EXN-' })).toThrow(InvalidArgumentError);
    await expect(osvForProduct(all, 'router-os', { idPrefix: 'EXN-' }).next()).rejects.toThrow(
      /must start with x_/,
    );
  });
});

describe('CSAF 2.0', () => {
  it('the validators accept the published examples and fail the 6.1.1 negative test case', async () => {
    for (const file of readdirSync(new URL('csaf/examples/', vectors))) {
      expect([file, csafValid(json(`csaf/examples/${file}`))]).toEqual([file, true]);
    }
    const failing = await mandatoryTests(
      json('csaf/mandatory-tests/oasis_csaf_tc-csaf_2_0-2021-6-1-01-01.json'),
    );
    expect(failing.isValid).toBe(false);
    expect(failing.failures.join('\n')).toMatch(/mandatoryTest_6_1_1/);
    const passing = await mandatoryTests(
      json('csaf/mandatory-tests/oasis_csaf_tc-csaf_2_0-2021-6-1-01-11.json'),
    );
    expect(passing.failures).toEqual([]);
  });

  it('writes a security advisory of disclosed findings that passes the schema and the mandatory tests', async () => {
    const doc = toCsafAdvisory([findings.disclosed], options) as {
      document: { category: string; tracking: { version: string } };
      vulnerabilities: Array<Record<string, unknown>>;
    };
    expect([csafValid(doc), csafValid.errors]).toEqual([true, null]);
    expect((await mandatoryTests(doc)).failures).toEqual([]);
    expect(doc.document.category).toBe('csaf_security_advisory');
    const [v] = doc.vulnerabilities as [Record<string, unknown>];
    expect(v.cve).toBe('CVE-2026-10001');
    expect(v.product_status).toEqual({
      known_affected: [artifacts.source42.id, artifacts.update42.id],
      fixed: [artifacts.update421.id],
      first_fixed: [artifacts.update421.id],
    });
    expect(v.scores).toEqual([
      {
        products: [artifacts.source42.id, artifacts.update42.id],
        cvss_v3: {
          version: '3.1',
          vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
          baseScore: 9.8,
          baseSeverity: 'CRITICAL',
        },
      },
    ]);
  });

  it('refuses an advisory with an undisclosed finding as failed_precondition', () => {
    let caught: unknown;
    try {
      toCsafAdvisory([findings.disclosed, findings.inProgress], options);
    } catch (err) {
      caught = err;
    }
    expect(isVitrineError(caught, 'failed_precondition')).toBe(true);
    expect((caught as Error).message).toMatch(/asia-4 is in_progress, not disclosed/);
  });

  it('writes a VEX document with the status of every product version', async () => {
    const doc = toCsafVex(all, {
      ...options,
      tlp: 'AMBER',
      status: 'interim',
      revisions: [
        { date: '2026-11-01T00:00:00Z', number: '1', summary: 'First status.' },
        { date: '2026-12-01T00:00:00Z', number: '2', summary: 'Fixes published.' },
      ],
    }) as {
      document: { category: string; tracking: { version: string; current_release_date: string } };
      vulnerabilities: Array<{
        ids: Array<{ text: string }>;
        product_status: Record<string, string[]>;
        remediations?: Array<{ category: string; details: string; product_ids: string[] }>;
        threats?: Array<{ category: string }>;
        notes: Array<{ title: string; text: string }>;
      }>;
    };
    expect([csafValid(doc), csafValid.errors]).toEqual([true, null]);
    expect((await mandatoryTests(doc)).failures).toEqual([]);
    expect(doc.document.category).toBe('csaf_vex');
    expect(doc.document.tracking.version).toBe('2');
    const byId = new Map(doc.vulnerabilities.map((v) => [v.ids[0]?.text, v]));
    expect(byId.has('asia-9')).toBe(false);
    expect(byId.get('us-3')?.product_status).toEqual({
      under_investigation: [artifacts.update42.id],
    });
    const inProgress = byId.get('asia-4');
    expect(inProgress?.product_status).toEqual({ known_affected: [artifacts.gateway10.id] });
    expect(inProgress?.remediations?.map((r) => r.category)).toEqual(['workaround']);
    expect(inProgress?.notes.find((n) => n.title === 'CVSS v4.0')?.text).toMatch(
      /^CVSS:4\.0\/AV:N/,
    );
    const fixed = byId.get('us-2');
    expect(fixed?.product_status).toEqual({
      known_affected: [artifacts.gateway10.id],
      fixed: [artifacts.gateway11.id],
      first_fixed: [artifacts.gateway11.id],
    });
    expect(fixed?.remediations?.[0]).toEqual({
      category: 'vendor_fix',
      details: 'Update to edge-gateway 1.1.',
      product_ids: [artifacts.gateway10.id],
    });
    expect(byId.get('europe-5')?.remediations?.map((r) => r.category)).toEqual(['none_available']);
    expect(byId.get('europe-6')?.product_status).toEqual({
      known_not_affected: [artifacts.source42.id],
    });
    expect(byId.get('europe-6')?.threats?.[0]?.category).toBe('impact');
    expect(byId.get('europe-1')?.remediations?.map((r) => r.category)).toEqual([
      'vendor_fix',
      'workaround',
    ]);
  });

  it('the mandatory tests catch a known-affected version without an action statement', async () => {
    const doc = toCsafVex([findings.inProgress], options) as {
      vulnerabilities: Array<Record<string, unknown>>;
    };
    delete doc.vulnerabilities[0]?.remediations;
    expect(csafValid(doc)).toBe(true);
    const result = await mandatoryTests(doc);
    expect(result.isValid).toBe(false);
    expect(result.failures.join('\n')).toMatch(/mandatoryTest_6_1_27_10/);
  });

  it('names two artifacts of one version apart in the product tree', () => {
    const doc = toCsafVex([findings.disclosed], options) as {
      product_tree: { branches: Array<{ branches: Array<{ branches: Array<{ name: string }> }> }> };
    };
    const versions = doc.product_tree.branches[0]?.branches[0]?.branches.map((b) => b.name);
    expect(versions).toEqual([
      `4.2 (source ${artifacts.source42.id.slice(0, 12)})`,
      `4.2 (update ${artifacts.update42.id.slice(0, 12)})`,
      '4.2.1',
    ]);
  });

  it('refuses an empty document and revisions out of order', () => {
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(isVitrineError(err, 'invalid_argument')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal(() => toCsafVex([], options))).toMatch(/at least one finding/);
    expect(
      refusal(() =>
        toCsafVex(all, {
          ...options,
          revisions: [{ date: options.now, number: '2', summary: 'x' }],
        }),
      ),
    ).toMatch(/numbered 1, 2/);
    expect(
      refusal(() =>
        toCsafVex([{ ...findings.fixedNoWorkaround, affected: [artifacts.gateway11] }], options),
      ),
    ).toMatch(/us-2 names no affected artifact/);
    expect(refusal(() => toOsv({ ...findings.disclosed, cvssVector: 'CVSS:3.1/AV:N' }))).toMatch(
      /invalid CVSS vector/,
    );
  });
});

describe('SARIF export', () => {
  const sarifValid = sarifValidator();

  async function text(chunks: AsyncIterable<string>): Promise<string> {
    let out = '';
    for await (const chunk of chunks) out += chunk;
    return out;
  }

  it('writes a log that the official schema accepts and vitrine reads back', async () => {
    const rules = [findings.inProgress.rule];
    const log = await text(writeSarif(all, { rules, toolVersion: '0.1.0' }));
    const parsed = JSON.parse(log);
    expect([sarifValid(parsed), sarifValid.errors]).toEqual([true, null]);

    const back = [];
    for await (const f of readSarif([log])) back.push(f);
    expect(back.map((f) => f.ruleId)).toEqual(
      all.map((f) => (f.rule !== undefined ? f.rule.id : MANUAL_RULE)),
    );
    expect(back.map((f) => f.level)).toEqual([
      'error',
      'error',
      'warning',
      'note',
      'warning',
      'none',
      'error',
    ]);
    expect(back[1]?.rule?.name).toBe('PathTraversal');
    expect(back[1]?.fingerprintBasis).toBe('partialFingerprints');
    expect(back[0]?.locations).toEqual([
      { path: 'src/updater/fetch.c', startLine: 41, endLine: 44 },
    ]);
    expect(back.map((f) => f.suppressed)).toEqual([false, false, false, false, false, true, true]);
    expect(parsed.runs[0].results[0].properties).toMatchObject({
      vitrineId: 'europe-1',
      status: 'disclosed',
      cvssScore: 9.8,
    });
  });

  it('streams: results are written as findings arrive', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield { ...findings.affectedNothingYet, id: `us-${i + 10}` };
      }
    }
    const writer = writeSarif(source());
    await writer.next();
    await writer.next();
    expect(pulled).toBe(1);
    const rest = await text(writer);
    expect(pulled).toBe(1000);
    expect(rest.split('\n').length).toBeGreaterThan(999);
  });
});
