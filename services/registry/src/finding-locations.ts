import { create } from '@bufbuild/protobuf';
import { type FindingLocation, FindingLocationSchema } from '@vitrine/proto/finding';

/** A location as the `findings.locations` column holds it (JSON, one object per place). */
interface StoredLocation {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
}

/**
 * The `findings.locations` value of a list of locations: JSON in a fixed key order, so the
 * same places always give the same text (imports compare it, state digests hash it).
 */
export function locationsColumn(
  locations: readonly { path: string; startLine?: number; endLine?: number }[],
): string {
  const stored: StoredLocation[] = locations.map((l) => ({
    path: l.path,
    startLine: l.startLine ?? 0,
    endLine: l.endLine ?? 0,
  }));
  return JSON.stringify(stored);
}

/** The API view of a `findings.locations` value. */
export function locationsOfColumn(column: string): FindingLocation[] {
  const stored = JSON.parse(column) as StoredLocation[];
  return stored.map((l) => create(FindingLocationSchema, l));
}
