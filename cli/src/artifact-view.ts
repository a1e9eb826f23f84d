import type { Artifact } from '@vitrine/proto/artifact';
import { artifactKinds, artifactStates } from '@vitrine/proto/enum-words';
import { isoTime, orNull, safeNumber } from './plain-values.js';
import { formatFields, formatTable } from './text-table.js';
import { formatBytes } from './units.js';

/** An artifact as `--json` prints it: plain values, enum words, ISO timestamps. */
export interface ArtifactJson {
  readonly id: string;
  readonly kind: string;
  readonly product: string;
  readonly version: string;
  readonly size: number | string;
  readonly contentDigest: string;
  readonly chunkCount: number;
  readonly residency: readonly string[];
  /** Whether the publisher widened the superseded artifact's residency on purpose. */
  readonly residencyWidened: boolean;
  readonly supersedes: string | null;
  readonly origin: string;
  readonly publishedAt: string | null;
  readonly state: string;
  readonly bytesHeld: number | string;
}

/** Converts a registry `Artifact` into the JSON the CLI prints (see `ArtifactJson`). */
export function artifactJson(artifact: Artifact): ArtifactJson {
  return {
    id: artifact.id,
    kind: artifactKinds.label(artifact.kind),
    product: artifact.product,
    version: artifact.version,
    size: safeNumber(artifact.size),
    contentDigest: artifact.contentDigest,
    chunkCount: artifact.chunkCount,
    residency: [...artifact.residency],
    residencyWidened: artifact.residencyWidened,
    supersedes: orNull(artifact.supersedes),
    origin: artifact.origin,
    publishedAt: isoTime(artifact.publishedAt),
    state: artifactStates.label(artifact.state),
    bytesHeld: safeNumber(artifact.bytesHeld),
  };
}

/** The `artifact show` text: one aligned `label: value` line per field. */
export function artifactDetailLines(artifact: Artifact): string[] {
  const held =
    artifact.bytesHeld === artifact.size
      ? ''
      : `${formatBytes(Number(artifact.bytesHeld))} of ${formatBytes(Number(artifact.size))}`;
  return formatFields([
    ['id', artifact.id],
    ['kind', artifactKinds.label(artifact.kind)],
    ['product', artifact.product],
    ['version', artifact.version],
    ['size', `${formatBytes(Number(artifact.size))} (${artifact.size} bytes)`],
    ['sha256', artifact.contentDigest],
    ['chunks', String(artifact.chunkCount)],
    ['residency', residencyText(artifact)],
    ['supersedes', artifact.supersedes],
    ['origin', artifact.origin],
    ['published', isoTime(artifact.publishedAt) ?? ''],
    ['state', artifactStates.label(artifact.state)],
    ['held', held],
  ]);
}

/** The `artifact ls` text: a table, or a line saying nothing matched. */
export function artifactTableLines(artifacts: readonly Artifact[], where: string): string[] {
  if (artifacts.length === 0) return [`no artifacts at ${where}`];
  return formatTable(
    ['id', 'kind', 'product', 'version', 'size', 'state', 'origin', 'published'],
    artifacts.map((artifact) => [
      artifact.id,
      artifactKinds.label(artifact.kind),
      artifact.product,
      artifact.version,
      formatBytes(Number(artifact.size)),
      artifactStates.label(artifact.state),
      artifact.origin,
      isoTime(artifact.publishedAt) ?? '',
    ]),
  );
}

/**
 * Residency for people: the codes, or `anywhere` when the artifact is unrestricted, and a
 * note when its publisher widened the residency of the artifact it supersedes.
 */
function residencyText(artifact: Artifact): string {
  const codes = artifact.residency.length === 0 ? 'anywhere' : artifact.residency.join(', ');
  return artifact.residencyWidened ? `${codes} (widened from the superseded artifact's)` : codes;
}
