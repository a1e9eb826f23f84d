import { VitrineError } from '@vitrine/errors';
import type { PushArtifactMetadata } from '@vitrine/proto/registry';

/** Where a new artifact may be held, and whether its publisher widened that on purpose. */
export interface UploadResidency {
  /** Jurisdiction codes, sorted; empty means every jurisdiction. */
  readonly residency: string[];
  /** True when it allows a jurisdiction the superseded artifact did not. */
  readonly widened: boolean;
}

/** The facts of a superseded artifact its successor's residency is decided by. */
export interface SupersededArtifact {
  readonly id: string;
  readonly residency: readonly string[];
}

/**
 * Decides an upload's residency at the center, whatever client sent it. A new version of a
 * product restricted to some jurisdictions must not quietly become storable everywhere
 * because its publisher left residency out, so a superseding upload:
 *
 * 1. without residency, takes the superseded artifact's;
 * 2. may narrow it (a subset of the jurisdictions it allowed);
 * 3. may widen it (another jurisdiction, or every one when residency is empty) only with
 *    `widen_residency`, else `failed_precondition`; the result is marked widened, and the
 *    mark is signed into the manifest.
 *
 * An upload that supersedes nothing keeps what it asked for (empty: everywhere).
 */
export function uploadResidency(
  meta: PushArtifactMetadata,
  superseded: SupersededArtifact | undefined,
): UploadResidency {
  const asked = [...meta.residency].sort();
  if (!superseded) return { residency: asked, widened: false };
  if (asked.length === 0 && !meta.widenResidency) {
    return { residency: [...superseded.residency].sort(), widened: false };
  }
  const added = widening(superseded.residency, asked);
  if (added === undefined) return { residency: asked, widened: false };
  if (!meta.widenResidency) {
    throw new VitrineError(
      'failed_precondition',
      `artifact ${superseded.id} may be held only in ${superseded.residency.join(', ')}; ` +
        `this upload would also allow ${added}. Leave residency out to keep it, narrow it, ` +
        'or set widen_residency (vitrine artifact push --widen-residency) to widen it',
    );
  }
  return { residency: asked, widened: true };
}

/** What `after` allows that `before` did not, in words; undefined when nothing. */
function widening(before: readonly string[], after: readonly string[]): string | undefined {
  if (before.length === 0) return undefined;
  if (after.length === 0) return 'every other jurisdiction';
  const added = after.filter((code) => !before.includes(code));
  return added.length === 0 ? undefined : added.join(', ');
}
