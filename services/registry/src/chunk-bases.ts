import { toHex } from '@vitrine/crypto';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from './schema.js';

/** Chunk digests read per query when lining two versions up. */
const LIST_PAGE = 10_000;

/**
 * For each chunk of `next` that `previous` does not have, the chunk of `previous` it most
 * likely replaced: the one as far after the last chunk both versions share (the anchor) as
 * it is after that anchor in `next`. An edit inside a content-defined chunk changes that
 * chunk alone, so the two usually share all but the edited bytes (see ChunkPatch).
 */
export function alignBases(
  previous: readonly Uint8Array[],
  next: readonly Uint8Array[],
): Map<string, Uint8Array> {
  const at = new Map<string, number>();
  for (const [i, digest] of previous.entries()) {
    const hex = toHex(digest);
    if (!at.has(hex)) at.set(hex, i);
  }
  const bases = new Map<string, Uint8Array>();
  let anchorPrevious = -1;
  let anchorNext = -1;
  for (const [j, digest] of next.entries()) {
    const hex = toHex(digest);
    const shared = at.get(hex);
    if (shared !== undefined) {
      anchorPrevious = shared;
      anchorNext = j;
      continue;
    }
    const base = previous[anchorPrevious + (j - anchorNext)];
    if (base !== undefined && !bases.has(hex)) bases.set(hex, base);
  }
  return bases;
}

/** A version replicating here, and the version it supersedes that this center holds whole. */
export interface VersionPair {
  readonly next: string;
  readonly previous: string;
}

/** Every artifact replicating here whose superseded version is available here. */
export function replicatingPairs(db: Kysely<RegistryDatabase>): Promise<VersionPair[]> {
  return db
    .selectFrom('artifacts as a')
    .innerJoin('artifacts as old', 'old.id', 'a.supersedes')
    .select(['a.id as next', 'old.id as previous'])
    .where('a.state', '=', 'replicating')
    .where('old.state', '=', 'available')
    .execute();
}

/** {@link alignBases} of a pair's chunk lists. */
export async function pairBases(
  db: Kysely<RegistryDatabase>,
  pair: VersionPair,
): Promise<Map<string, Uint8Array>> {
  return alignBases(await chunkList(db, pair.previous), await chunkList(db, pair.next));
}

/** An artifact's chunk digests in order. */
async function chunkList(db: Kysely<RegistryDatabase>, artifactId: string) {
  const digests: Uint8Array[] = [];
  for (;;) {
    const page = await db
      .selectFrom('artifact_chunks')
      .select('digest')
      .where('artifact_id', '=', artifactId)
      .where('idx', '>=', digests.length)
      .orderBy('idx')
      .limit(LIST_PAGE)
      .execute();
    for (const row of page) digests.push(row.digest);
    if (page.length < LIST_PAGE) return digests;
  }
}
