import { toHex } from '@vitrine/crypto';
import type { Kysely } from 'kysely';
import { artifactChunkPage } from '../queries/artifacts.js';
import type { VersionPair } from '../queries/chunks.js';
import type { RegistryDatabase } from '../schema.js';

/** Chunk digests read per query when lining two versions up. */
const LIST_PAGE = 10_000;

/**
 * Where a chunk of a new version likely comes from (see PatchBase): the run of chunks of
 * the previous version its run of new chunks replaced, and its offsets from the new run's
 * start and end.
 */
export interface ChunkBase {
  readonly run: readonly Uint8Array[];
  readonly startGap: number;
  readonly endGap: number;
}

/** A chunk in a version's list: its digest and size. */
export interface ListedChunk {
  readonly digest: Uint8Array;
  readonly size: number;
}

/** Runs of old chunks longer than this are not offered as bases (a rewrite, not an edit). */
export const MAX_BASE_RUN = 16;

/**
 * For each chunk of `next` that `previous` does not have, its {@link ChunkBase}. The chunks
 * both versions share are anchors; between two anchors, a run of new chunks replaced the
 * run of old chunks between the same anchors. An edit changes the chunk it falls in and
 * may shift the cuts of a few after it, but the bytes before it keep their offset from the
 * run's start and those after it their offset from the run's end.
 */
export function alignBases(
  previous: readonly ListedChunk[],
  next: readonly ListedChunk[],
): Map<string, ChunkBase> {
  const at = new Map<string, number>();
  for (const [i, { digest }] of previous.entries()) {
    const hex = toHex(digest);
    if (!at.has(hex)) at.set(hex, i);
  }
  const hexes = next.map((c) => toHex(c.digest));
  const bases = new Map<string, ChunkBase>();
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
    const oldEnd = end < next.length ? (at.get(hexes[end] as string) as number) : previous.length;
    const run = previous.slice(anchor + 1, oldEnd).map((c) => c.digest);
    if (run.length > 0 && run.length <= MAX_BASE_RUN) {
      const sizes = next.slice(j, end).map((c) => c.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      let startGap = 0;
      for (let m = j; m < end; m++) {
        const size = sizes[m - j] as number;
        const hex = hexes[m] as string;
        if (!bases.has(hex)) bases.set(hex, { run, startGap, endGap: total - startGap - size });
        startGap += size;
      }
    }
    j = end;
  }
  return bases;
}

/** {@link alignBases} of a pair's chunk lists. */
export async function pairBases(
  db: Kysely<RegistryDatabase>,
  pair: VersionPair,
): Promise<Map<string, ChunkBase>> {
  return alignBases(await chunkList(db, pair.previous), await chunkList(db, pair.next));
}

/** An artifact's chunks in order. */
async function chunkList(db: Kysely<RegistryDatabase>, artifactId: string) {
  const chunks: ListedChunk[] = [];
  for (;;) {
    const page = await artifactChunkPage(db, artifactId, chunks.length, LIST_PAGE);
    chunks.push(...page);
    if (page.length < LIST_PAGE) return chunks;
  }
}
