import type { HandlerContext } from '@connectrpc/connect';
import { FieldViolations } from '@vitrine/errors';
import type { ExportFindingsRequest } from '@vitrine/proto/registry';
import type { Kysely } from 'kysely';
import { grantOf } from './access/access-grant.js';
import { grantedArtifact, requireOnFinding } from './access/scoped-lookups.js';
import type { Artifacts } from './artifacts.js';
import type { ExportSelection } from './export-findings.js';
import type { RegistryDatabase } from './schema.js';
import { ARTIFACT_ID, assertId, FINDING_ID, LIMITS } from './validate.js';

/** An export's findings, with how to name them. */
export interface ResolvedSelection {
  readonly selection: ExportSelection;
  readonly label: string;
  readonly product?: string;
}

/**
 * The findings an export request asks for, within the caller's scope: a finding or an
 * artifact outside it is NOT_FOUND, as a missing one; a listing holds only findings on
 * artifacts the caller may read.
 */
export async function exportSelection(
  ctx: HandlerContext,
  db: Kysely<RegistryDatabase>,
  artifacts: Artifacts,
  selection: ExportFindingsRequest['selection'],
): Promise<ResolvedSelection> {
  const within = grantOf(ctx).listable('read');
  const scoped = within ? { within } : {};
  switch (selection.case) {
    case 'findingId': {
      const id = selection.value;
      assertId('finding_id', id, FINDING_ID, 'a finding id such as europe-17');
      await requireOnFinding(ctx, db, 'read', id);
      return { selection: { kind: 'finding', id }, label: `finding ${id}` };
    }
    case 'artifactId': {
      const id = selection.value;
      assertId('artifact_id', id, ARTIFACT_ID, 'an artifact id (64 hex digits)');
      await grantedArtifact(ctx, artifacts, 'read', id);
      const label = `artifact ${id}`;
      return {
        selection: { kind: 'listing', filter: { ...scoped, artifactId: id }, label },
        label,
      };
    }
    case 'product': {
      const product = selection.value;
      new FieldViolations()
        .check(
          product.trim() !== '' && product.length <= LIMITS.name,
          'product',
          `must be a product name of 1 to ${LIMITS.name} characters`,
        )
        .throwIfAny();
      const label = `product ${product}`;
      const filter = { ...scoped, product };
      return { selection: { kind: 'listing', filter, label }, label, product };
    }
    case undefined: {
      const label = 'every finding';
      return { selection: { kind: 'listing', filter: scoped, label }, label };
    }
    default:
      throw new Error(`unhandled export selection ${String(selection satisfies never)}`);
  }
}
