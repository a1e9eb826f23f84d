import { InvalidArgumentError, VitrineError } from '@vitrine/errors';
import { parseCvss } from './cvss.js';
import { type ExportFinding, type ProductArtifact, utc } from './finding.js';

/** Who issues the document (CSAF `document.publisher`). */
export interface CsafPublisher {
  readonly name: string;
  /** A URL of the publisher, e.g. `https://vendor.example`. */
  readonly namespace: string;
  readonly category?: 'vendor' | 'coordinator' | 'discoverer' | 'other' | 'translator' | 'user';
  readonly contactDetails?: string;
}

/** One entry of the document's revision history. */
export interface CsafRevision {
  readonly date: string | Date;
  /** `1`, `2`, … (integer versioning). */
  readonly number: string;
  readonly summary: string;
}

export interface CsafOptions {
  readonly publisher: CsafPublisher;
  /** The vendor named at the root of the product tree; defaults to the publisher's name. */
  readonly vendor?: string;
  /** `document.tracking.id`, unique for the publisher, e.g. `VENDOR-2026-0007`. */
  readonly trackingId: string;
  readonly title: string;
  /**
   * The document's revisions, oldest first, numbered 1, 2, …; the last is the current
   * version. Defaults to one revision, `1`, at `now`.
   */
  readonly revisions?: readonly CsafRevision[];
  /** Time of the export; defaults to the current time. */
  readonly now?: string | Date;
  /** `document.tracking.status`; default `final`. */
  readonly status?: 'draft' | 'interim' | 'final';
  /** TLP label of the document, when it has one. */
  readonly tlp?: 'WHITE' | 'GREEN' | 'AMBER' | 'RED';
  /** The generator's version, recorded in `document.tracking.generator`. */
  readonly generatorVersion?: string;
}

type Json = Record<string, unknown>;

const CVE = /^CVE-[0-9]{4}-[0-9]{4,}$/;

/**
 * A CSAF 2.0 `csaf_security_advisory` for disclosed findings: every finding must be
 * disclosed (a finding not yet public belongs in a VEX document for partners, not in an
 * advisory). Throws failed_precondition naming the first one that is not.
 */
export function toCsafAdvisory(findings: readonly ExportFinding[], options: CsafOptions): Json {
  const notDisclosed = findings.find((f) => f.status !== 'disclosed');
  if (notDisclosed !== undefined) {
    throw new VitrineError(
      'failed_precondition',
      `finding ${notDisclosed.id} is ${notDisclosed.status}, not disclosed: a security advisory publishes disclosed findings only (export csaf-vex for the status of undisclosed ones)`,
    );
  }
  return document('csaf_security_advisory', findings, options);
}

/**
 * A CSAF 2.0 `csaf_vex` document: for each finding, the status of each product version
 * it names. New and triaged findings are `under_investigation`; from in_progress on the
 * versions are `known_affected` with their remediation (the fix when there is one, else
 * the workaround given, else none available), and the update that fixes it is `fixed`;
 * a rejected finding leaves its versions `known_not_affected` with an impact statement.
 * Duplicates are left out: their original carries the status.
 */
export function toCsafVex(findings: readonly ExportFinding[], options: CsafOptions): Json {
  return document(
    'csaf_vex',
    findings.filter((f) => f.status !== 'duplicate'),
    options,
  );
}

function document(
  category: 'csaf_security_advisory' | 'csaf_vex',
  findings: readonly ExportFinding[],
  options: CsafOptions,
): Json {
  if (findings.length === 0) {
    throw new InvalidArgumentError('a CSAF document needs at least one finding', [
      { field: 'findings', message: 'empty' },
    ]);
  }
  const now = utc(options.now ?? new Date());
  const revisions = (
    options.revisions ?? [{ date: now, number: '1', summary: 'Initial version.' }]
  ).map((r) => ({ date: utc(r.date), number: r.number, summary: r.summary }));
  revisions.forEach((r, i) => {
    if (r.number !== String(i + 1)) {
      throw new InvalidArgumentError('CSAF revisions are numbered 1, 2, … oldest first', [
        { field: `revisions[${i}].number`, message: `must be ${i + 1}` },
      ]);
    }
  });
  const last = revisions[revisions.length - 1] as { date: string; number: string };
  const first = revisions[0] as { date: string };
  const vendor = options.vendor ?? options.publisher.name;
  const artifacts = new Map<string, ProductArtifact>();
  for (const f of findings) {
    for (const a of f.affected) artifacts.set(a.id, a);
    if (f.fix !== undefined) artifacts.set(f.fix.id, f.fix);
  }
  const names = versionNames([...artifacts.values()]);

  return {
    document: {
      category,
      csaf_version: '2.0',
      lang: 'en',
      ...(options.tlp !== undefined ? { distribution: { tlp: { label: options.tlp } } } : {}),
      publisher: {
        category: options.publisher.category ?? 'vendor',
        name: options.publisher.name,
        namespace: options.publisher.namespace,
        ...(options.publisher.contactDetails !== undefined
          ? { contact_details: options.publisher.contactDetails }
          : {}),
      },
      title: options.title,
      tracking: {
        id: options.trackingId,
        status: options.status ?? 'final',
        version: last.number,
        revision_history: revisions,
        initial_release_date: first.date,
        current_release_date: last.date,
        generator: {
          date: now,
          engine: {
            name: 'vitrine',
            ...(options.generatorVersion !== undefined
              ? { version: options.generatorVersion }
              : {}),
          },
        },
      },
    },
    product_tree: productTree(vendor, [...artifacts.values()], names),
    vulnerabilities: findings.map((f) => vulnerability(f, names)),
  };
}

/** The version branch name of each artifact, with kind and id when two share a version. */
function versionNames(artifacts: readonly ProductArtifact[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const a of artifacts) {
    const twin = artifacts.some(
      (b) => b.id !== a.id && b.product === a.product && b.version === a.version,
    );
    names.set(a.id, twin ? `${a.version} (${a.kind} ${a.id.slice(0, 12)})` : a.version);
  }
  return names;
}

function productTree(
  vendor: string,
  artifacts: readonly ProductArtifact[],
  versions: Map<string, string>,
): Json {
  const products = new Map<string, ProductArtifact[]>();
  for (const a of artifacts) {
    const list = products.get(a.product);
    if (list === undefined) products.set(a.product, [a]);
    else list.push(a);
  }
  return {
    branches: [
      {
        category: 'vendor',
        name: vendor,
        branches: [...products].map(([product, list]) => ({
          category: 'product_name',
          name: product,
          branches: list.map((a) => ({
            category: 'product_version',
            name: versions.get(a.id),
            product: { product_id: a.id, name: `${vendor} ${product} ${versions.get(a.id)}` },
          })),
        })),
      },
    ],
  };
}

function vulnerability(f: ExportFinding, names: Map<string, string>): Json {
  const fix = f.fix;
  const affected = [...new Set(f.affected.map((a) => a.id))].filter((id) => id !== fix?.id);
  const cve = f.aliases?.find((a) => CVE.test(a));
  const cvss = f.cvssVector !== undefined ? parseCvss(f.cvssVector) : undefined;
  const notes: Json[] = [
    {
      category: 'description',
      title: 'Description',
      text: f.description === '' ? f.title : f.description,
    },
  ];
  if (cvss?.version === '4.0') {
    // CSAF 2.0 scores CVSS v2 and v3 only; a v4.0 vector is kept as a note.
    notes.push({
      category: 'other',
      title: 'CVSS v4.0',
      text: `${cvss.vector} (score ${cvss.score.toFixed(1)}, ${cvss.severity})`,
    });
  }
  const status: Json = {};
  const remediations: Json[] = [];
  const threats: Json[] = [];
  if (affected.length === 0) {
    throw new InvalidArgumentError(`finding ${f.id} names no affected artifact`, [
      { field: `${f.id}.affected`, message: 'name at least one artifact other than its fix' },
    ]);
  }
  switch (f.status) {
    case 'new':
    case 'triaged':
      status.under_investigation = affected;
      break;
    case 'rejected':
      status.known_not_affected = affected;
      threats.push({
        category: 'impact',
        details: `Reviewed (finding ${f.id}) and rejected: the reported issue does not affect these versions.`,
        product_ids: affected,
      });
      break;
    default: {
      status.known_affected = affected;
      if (fix !== undefined) {
        status.fixed = [fix.id];
        status.first_fixed = [fix.id];
        remediations.push({
          category: 'vendor_fix',
          details: `Update to ${fix.product} ${names.get(fix.id)}.`,
          product_ids: affected,
        });
      } else if (f.remediation !== undefined) {
        remediations.push({
          category: 'workaround',
          details: f.remediation,
          product_ids: affected,
        });
      } else {
        remediations.push({
          category: 'none_available',
          details: 'No fix or workaround is available yet.',
          product_ids: affected,
        });
      }
      if (fix !== undefined && f.remediation !== undefined) {
        remediations.push({
          category: 'workaround',
          details: f.remediation,
          product_ids: affected,
        });
      }
    }
  }
  return {
    ...(cve !== undefined ? { cve } : {}),
    ids: [{ system_name: 'vitrine finding', text: f.id }],
    title: f.title,
    notes,
    discovery_date: utc(f.createdAt),
    ...(f.disclosedAt !== undefined ? { release_date: utc(f.disclosedAt) } : {}),
    product_status: status,
    ...(remediations.length > 0 ? { remediations } : {}),
    ...(threats.length > 0 ? { threats } : {}),
    ...(cvss !== undefined && cvss.version !== '4.0' && affected.length > 0
      ? {
          scores: [
            {
              products: affected,
              cvss_v3: {
                version: cvss.version,
                vectorString: cvss.vector,
                baseScore: cvss.baseScore,
                baseSeverity: cvss.severity.toUpperCase(),
              },
            },
          ],
        }
      : {}),
  };
}
