import type { Kysely } from 'kysely';
import type { ScopeLimit } from '../access/scope-filter.js';
import type { RegistryDatabase } from '../schema.js';
import { findingCovered } from './findings.js';

type Db = Kysely<RegistryDatabase>;

/** How far a chain of duplicates is followed; a longer one reads as a plain duplicate. */
const MAX_CHAIN = 32;

/** A finding's duplicate links, as read: what it duplicates and what duplicates it. */
export interface FindingLinks {
  /** The findings whose `duplicate_of` names it (within the reader's scope), by id. */
  readonly duplicates: string[];
  /**
   * Its status, except for a duplicate linked to an original: the status of the first
   * finding down the chain of links that is not a linked duplicate. A chain that leaves
   * this center (original not held here yet), loops (concurrent links at two centers) or
   * runs past MAX_CHAIN leaves `duplicate`.
   */
  readonly effectiveStatus: string;
}

interface LinkFacts {
  readonly id: string;
  readonly status: string;
  readonly duplicate_of: string;
}

/**
 * The links of `rows`, by id, derived from the findings table when read: a duplicate's
 * effective status follows its original with no event of its own, so every center that
 * holds the same findings shows the same.
 */
export async function findingLinks(
  db: Db,
  rows: readonly LinkFacts[],
  within?: ScopeLimit,
): Promise<Map<string, FindingLinks>> {
  const links = new Map<string, FindingLinks>();
  if (rows.length === 0) return links;
  const ids = rows.map((r) => r.id);
  let reverse = db
    .selectFrom('findings')
    .select(['id', 'duplicate_of'])
    .where('duplicate_of', 'in', ids);
  if (within) reverse = reverse.where(findingCovered(within));
  const duplicates = await reverse.orderBy('id').execute();
  const known = await chainFacts(db, rows);
  for (const row of rows) {
    links.set(row.id, {
      duplicates: duplicates.filter((d) => d.duplicate_of === row.id).map((d) => d.id),
      effectiveStatus: effectiveStatus(row, known),
    });
  }
  return links;
}

/** Whether `original`'s chain of links reaches `id` (linking `id` to it closes a cycle). */
export async function chainReaches(db: Db, original: string, id: string): Promise<boolean> {
  let next = original;
  for (let step = 0; step < MAX_CHAIN && next !== ''; step++) {
    if (next === id) return true;
    const row = await db
      .selectFrom('findings')
      .select('duplicate_of')
      .where('id', '=', next)
      .executeTakeFirst();
    next = row?.duplicate_of ?? '';
  }
  return next === id;
}

/** The facts of every finding down the chains of `rows`, fetched one level at a time. */
async function chainFacts(db: Db, rows: readonly LinkFacts[]): Promise<Map<string, LinkFacts>> {
  const known = new Map(rows.map((r) => [r.id, r]));
  let wanted = targets(rows, known);
  for (let level = 0; level < MAX_CHAIN && wanted.length > 0; level++) {
    const found = await db
      .selectFrom('findings')
      .select(['id', 'status', 'duplicate_of'])
      .where('id', 'in', wanted)
      .execute();
    for (const f of found) known.set(f.id, f);
    // Ids not held here stay unknown: their chain ends there.
    wanted = targets(found, known);
  }
  return known;
}

function targets(rows: readonly LinkFacts[], known: Map<string, LinkFacts>): string[] {
  return [
    ...new Set(
      rows.filter((r) => isLinked(r) && !known.has(r.duplicate_of)).map((r) => r.duplicate_of),
    ),
  ];
}

function isLinked(f: LinkFacts): boolean {
  return f.status === 'duplicate' && f.duplicate_of !== '';
}

function effectiveStatus(row: LinkFacts, known: Map<string, LinkFacts>): string {
  const seen = new Set<string>();
  let at: LinkFacts = row;
  while (isLinked(at)) {
    seen.add(at.id);
    const next = known.get(at.duplicate_of);
    if (next === undefined || seen.has(next.id) || seen.size > MAX_CHAIN) return 'duplicate';
    at = next;
  }
  return at.status;
}
