import type { ExportFinding, ProductArtifact } from '../src/finding.js';

const id = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

export const artifacts = {
  source42: { id: id(1), product: 'router-os', version: '4.2', kind: 'source' },
  update42: { id: id(2), product: 'router-os', version: '4.2', kind: 'update' },
  update421: { id: id(3), product: 'router-os', version: '4.2.1', kind: 'update' },
  gateway10: { id: id(4), product: 'edge-gateway', version: '1.0', kind: 'update' },
  gateway11: { id: id(5), product: 'edge-gateway', version: '1.1', kind: 'update' },
} satisfies Record<string, ProductArtifact>;

const base = {
  origin: 'europe',
  createdAt: '2026-11-02T09:00:00Z',
  updatedAt: new Date('2026-11-20T10:30:00.250Z'),
  description: '',
} as const;

/** One finding in each lifecycle state that the exports treat differently. */
export const findings = {
  disclosed: {
    ...base,
    id: 'europe-1',
    title: 'Hard-coded credential in updater',
    description: 'The updater ships a fixed password for its download server.',
    severity: 'critical',
    cvssVector: 'CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H',
    status: 'disclosed',
    disclosedAt: '2026-11-20T10:00:00Z',
    affected: [artifacts.source42, artifacts.update42],
    fix: artifacts.update421,
    remediation: 'Block outbound access to the download server.',
    aliases: ['CVE-2026-10001', 'GHSA-xxxx-yyyy-zzzz'],
    locations: [
      {
        artifactId: artifacts.source42.id,
        path: 'src/updater/fetch.c',
        startLine: 41,
        endLine: 44,
      },
    ],
    history: [
      { at: '2026-11-02T09:00:00Z', actor: 'partner-a', status: 'new', summary: 'recorded' },
    ],
  },
  inProgress: {
    ...base,
    id: 'asia-4',
    origin: 'asia',
    title: 'Path traversal in the gateway web console',
    severity: 'high',
    cvssVector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P',
    status: 'in_progress',
    affected: [artifacts.gateway10],
    remediation: 'Disable the web console (set console.enabled=false).',
    rule: {
      tool: 'semgrep',
      id: 'python.path-traversal',
      name: 'PathTraversal',
      description: 'Path traversal',
    },
    fingerprint: 'ab'.repeat(32),
    locations: [{ path: 'console/files.py', startLine: 12 }],
  },
  fixedNoWorkaround: {
    ...base,
    id: 'us-2',
    origin: 'us',
    title: 'Integer overflow in packet parser',
    severity: 'medium',
    cvssVector: 'CVSS:3.0/AV:A/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:H',
    status: 'fixed',
    affected: [artifacts.gateway10],
    fix: artifacts.gateway11,
  },
  affectedNothingYet: {
    ...base,
    id: 'us-3',
    origin: 'us',
    title: 'Weak TLS defaults',
    severity: 'low',
    status: 'triaged',
    affected: [artifacts.update42],
  },
  confirmedNoRemedy: {
    ...base,
    id: 'europe-5',
    title: 'Debug port left open',
    severity: 'medium',
    status: 'verified',
    affected: [artifacts.update42],
  },
  rejected: {
    ...base,
    id: 'europe-6',
    title: 'Suspected SQL injection',
    severity: 'info',
    status: 'rejected',
    affected: [artifacts.source42],
  },
  duplicate: {
    ...base,
    id: 'asia-9',
    origin: 'asia',
    title: 'Credential in updater (same as europe-1)',
    severity: 'critical',
    status: 'duplicate',
    duplicateOf: 'europe-1',
    affected: [artifacts.source42],
  },
} satisfies Record<string, ExportFinding>;

export const all: ExportFinding[] = Object.values(findings);
