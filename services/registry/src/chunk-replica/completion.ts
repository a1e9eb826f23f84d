import type { ChunkStore } from '@vitrine/chunks';
import type { Kysely } from 'kysely';
import { verifyContent } from '../artifact-content.js';
import { markAvailable, refreshArtifactHoldings } from '../queries/artifacts.js';
import { replicatingArtifacts, unrecordedByDigest } from '../queries/chunks.js';
import type { RegistryDatabase } from '../schema.js';

/**
 * Verifies the whole content of every replicating artifact whose chunks are all held and
 * marks it available; returns their ids. One that fails stays replicating (`data_loss`
 * is reported through `onFailure`).
 */
export async function completeArtifacts(
  db: Kysely<RegistryDatabase>,
  store: ChunkStore,
  onFailure: (id: string, err: unknown) => void,
): Promise<string[]> {
  const replicating = await replicatingArtifacts(db);
  let ready = replicating.filter((a) => a.bytes_held === a.size);
  // Bytes held are counted as chunks are recorded; a count that lags (an artifact
  // recorded while one of its chunks was) is recounted once no chunk is missing.
  if (ready.length < replicating.length && (await unrecordedByDigest(db, 1)).length === 0) {
    ready = replicating;
  }
  const done: string[] = [];
  for (const row of ready) {
    try {
      if (row.bytes_held !== row.size) await refreshArtifactHoldings(db, row.id);
      await verifyContent(db, store, row);
      await markAvailable(db, row.id);
      done.push(row.id);
    } catch (err) {
      onFailure(row.id, err);
    }
  }
  return done;
}
