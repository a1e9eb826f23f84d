import { toHex } from '@vitrine/crypto';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from './schema.js';

/** Chunk digests read per query when lining two versions up. */
const LIST_PAGE = 10_000;

/** The chunks of the previous version a new chunk likely begins and ends like. */
export interface ChunkBases {
  readonly front?: Uint8Array | undefined;
  readonly back?: Uint8Array | undefined;
}

/**
 * For each chunk of `next` that `previous` does not have, the chunks of `previous` it most
 * likely begins and ends like. The chunks both versions share are anchors; between two
 * anchors, a run of new chunks replaced the run of old chunks between the same anchors, so
 * the k-th new chunk of a run begins like the k-th old one (`front`) and the k-th from the
 * end ends like the k-th old one from the end (`back`). An edit inside a content-defined
 * chunk changes that chunk alone, or splits or merges it with a neighbour; either way the
 * bytes around the edit are found in these two (see ChunkPatch).
 */
export function alignBases(
  previous: readonly Uint8Array[],
  next: readonly Uint8Array[],
): Map<string, ChunkBases> {
  const at = new Map<string, number>();
  for (const [i, digest] of previous.entries()) {
    const hex = toHex(digest);
    if (!at.has(hex)) at.set(hex, i);
  }
  const hexes = next.map(toHex);
  const bases = new Map<string, ChunkBases>();
  let anchor = -1;
  for (let j = 0; j < next.length; ) {
    const shared = at.get(hexes[j] as string);
    if (shared !== undefined) {
      anchor = shared;
      j++;
      continue;
    }
    let end = j;
    while (end < next.length && !at.has(hexes[end] as string)) end++;
    const oldStart = anchor + 1;
    const oldEnd = end < next.length ? (at.get(hexes[end] as string) as number) : previous.length;
    for (let m = j; m < end; m++) {
      const frontAt = oldStart + (m - j);
      const backAt = oldEnd - 1 - (end - 1 - m);
      const front = frontAt < oldEnd ? previous[frontAt] : undefined;
      const back = backAt >= oldStart ? previous[backAt] : undefined;
      const hex = hexes[m] as string;
      if ((front || back) && !bases.has(hex)) bases.set(hex, { front, back });
    }
    j = end;
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
): Promise<Map<string, ChunkBases>> {
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
