import type { ExportFinding, ProductArtifact } from '@vitrine/advisories';
import { hlcToDate } from '@vitrine/events';
import type { StatusWord } from '@vitrine/proto/enum-words';
import type { PageCursor } from '@vitrine/storage';
import type { Kysely } from 'kysely';
import type { GrantedArtifact } from './access/access-grant.js';
import { artifactsIn } from './queries/artifacts.js';
import {
  type FindingFilter,
  type FindingRow,
  findFinding,
  listFindings,
  statusWrites,
} from './queries/findings.js';
import type { RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase>;

/** Findings are read for an export this many at a time. */
const EXPORT_PAGE = 200;

/** Which findings an export holds: one (already checked against the scope), or a listing. */
export type ExportSelection =
  | { readonly kind: 'finding'; readonly id: string }
  | {
      readonly kind: 'listing';
      /** Includes the caller's scope. */
      readonly filter: FindingFilter;
      /** What was asked for, e.g. `product router-os`, for titles and messages. */
      readonly label: string;
    };

/**
 * The selected findings as the exporters take them, a page at a time: their artifacts
 * resolved to product and version, the fix only when `covers` lets the caller see it.
 */
export async function* exportFindings(
  db: Db,
  selection: ExportSelection,
  covers: (artifact: GrantedArtifact) => boolean,
): AsyncGenerator<ExportFinding> {
  for await (const page of selectedPages(db, selection)) {
    const ids = page.flatMap((f) => [
      ...f.artifact_ids,
      ...(f.fix_artifact_id ? [f.fix_artifact_id] : []),
    ]);
    const artifacts = new Map((await artifactsIn(db, [...new Set(ids)])).map((a) => [a.id, a]));
    const statusAt = await statusWrites(
      db,
      page.map((f) => f.id),
    );
    for (const row of page) yield toExportFinding(row, artifacts, statusAt.get(row.id), covers);
  }
}

type HeldArtifact = Awaited<ReturnType<typeof artifactsIn>>[number];

/** One row as an exporter takes it; `statusAt` is when its status was last written. */
function toExportFinding(
  row: FindingRow,
  artifacts: Map<string, HeldArtifact>,
  statusAt: bigint | undefined,
  covers: (artifact: GrantedArtifact) => boolean,
): ExportFinding {
  const fix = row.fix_artifact_id ? artifacts.get(row.fix_artifact_id) : undefined;
  const disclosedAt = row.status === 'disclosed' ? statusAt : undefined;
  return {
    id: row.id,
    origin: row.origin,
    title: row.title,
    description: row.description,
    severity: row.severity as ExportFinding['severity'],
    ...(row.cvss_vector !== '' ? { cvssVector: row.cvss_vector } : {}),
    status: row.status as StatusWord,
    createdAt: hlcToDate(row.created_hlc),
    updatedAt: hlcToDate(row.updated_hlc),
    ...(disclosedAt !== undefined ? { disclosedAt: hlcToDate(disclosedAt) } : {}),
    // An artifact not held here (yet) is left out.
    affected: row.artifact_ids.flatMap((id) => {
      const held = artifacts.get(id);
      return held === undefined ? [] : [productArtifact(held)];
    }),
    ...(fix !== undefined && covers(fix) ? { fix: productArtifact(fix) } : {}),
    ...(row.duplicate_of !== '' ? { duplicateOf: row.duplicate_of } : {}),
  };
}

function productArtifact(a: HeldArtifact): ProductArtifact {
  return {
    id: a.id,
    product: a.product,
    version: a.version,
    kind: a.kind as ProductArtifact['kind'],
  };
}

/** The selected finding rows, oldest page last (newest first, as listings go). */
async function* selectedPages(db: Db, selection: ExportSelection): AsyncGenerator<FindingRow[]> {
  if (selection.kind === 'finding') {
    const row = await findFinding(db, selection.id);
    if (row) yield [row];
    return;
  }
  let after: PageCursor | undefined;
  for (;;) {
    const page = await listFindings(db, selection.filter, EXPORT_PAGE, after);
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (last === undefined || page.length < EXPORT_PAGE) return;
    after = { order: last.created_hlc, id: last.id };
  }
}
