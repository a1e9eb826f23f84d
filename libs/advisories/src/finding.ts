import type { Severity } from './cvss.js';

/**
 * Plain input of the exporters: a finding as the registry holds it, with the artifacts it
 * names resolved to product and version. Nothing here depends on the registry's storage
 * or protos, so any caller can build one.
 */

/** A finding's lifecycle state, as in `vitrine.registry.v1.FindingStatus`. */
export type FindingStatus =
  | 'new'
  | 'triaged'
  | 'in_progress'
  | 'fixed'
  | 'verified'
  | 'disclosed'
  | 'rejected'
  | 'duplicate';

/** An artifact of a product: a source snapshot, an update or a rules update. */
export interface ProductArtifact {
  /** The artifact id (64 hex digits). */
  readonly id: string;
  readonly product: string;
  readonly version: string;
  readonly kind: 'source' | 'update' | 'rules';
}

/** A place in an artifact that a finding points at. */
export interface FindingLocation {
  /** The artifact it is in, when the finding names several. */
  readonly artifactId?: string;
  /** Path inside the artifact, `/`-separated. */
  readonly path: string;
  readonly startLine?: number;
  readonly endLine?: number;
}

/** The scanner rule a finding came from (SARIF import). */
export interface FindingRule {
  readonly tool: string;
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly help?: string;
  readonly helpUri?: string;
}

/** One change in a finding's history. */
export interface FindingChange {
  /** RFC 3339 time or a Date. */
  readonly at: string | Date;
  readonly actor?: string;
  /** The status it moved to, when the change moved it. */
  readonly status?: FindingStatus;
  readonly summary: string;
}

/** A finding, ready to be exported. */
export interface ExportFinding {
  /** `<origin center>-<number>`, e.g. `europe-17`. */
  readonly id: string;
  readonly origin: string;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  /** CVSS v3.0, v3.1 or v4.0 vector, when scored. */
  readonly cvssVector?: string;
  readonly status: FindingStatus;
  readonly createdAt: string | Date;
  readonly updatedAt: string | Date;
  /** When it was disclosed (status `disclosed`). */
  readonly disclosedAt?: string | Date;
  /** The artifacts it was found in: the affected product versions. */
  readonly affected: readonly ProductArtifact[];
  /** The update artifact that fixes it (status fixed and after). */
  readonly fix?: ProductArtifact;
  /** What a user can do while affected (a workaround or mitigation), when known. */
  readonly remediation?: string;
  /** Other identifiers of the same issue, e.g. `CVE-2026-1234`. */
  readonly aliases?: readonly string[];
  /** The finding this one duplicates (status `duplicate`). */
  readonly duplicateOf?: string;
  readonly locations?: readonly FindingLocation[];
  readonly rule?: FindingRule;
  /** The import fingerprint (SARIF import), when it came from a scanner. */
  readonly fingerprint?: string;
  readonly history?: readonly FindingChange[];
}

/** RFC 3339 in UTC with `Z`, as OSV and CSAF want it. */
export function utc(time: string | Date): string {
  const date = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a time: ${String(time)}`);
  return date.toISOString();
}

/** Affected artifacts grouped by product, in first-seen order. */
export function byProduct(artifacts: readonly ProductArtifact[]): Map<string, ProductArtifact[]> {
  const groups = new Map<string, ProductArtifact[]>();
  for (const artifact of artifacts) {
    const group = groups.get(artifact.product);
    if (group === undefined) groups.set(artifact.product, [artifact]);
    else if (!group.some((a) => a.id === artifact.id)) group.push(artifact);
  }
  return groups;
}
