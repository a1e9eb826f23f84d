import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RegistryDatabase } from '../schema.js';
import { heldHeads } from './events.js';

/**
 * SHA-256 (hex) over the signed history this center holds: each origin's head — its id, the
 * highest contiguous sequence held and that event's header digest — sorted by origin. Each
 * header names the digest of the one before it, so an origin's head digest commits to its
 * whole chain of signed headers. Every center holds every header, whatever residency keeps
 * from it (bodies alone are withheld), so centers that hold the same history report the
 * same digest — the check that replication converged, where the state digest differs by
 * what each center may hold.
 */
export async function convergenceDigest(db: Kysely<RegistryDatabase>): Promise<string> {
  const heads = await heldHeads(db);
  // Sorted here by code unit, not by the database's collation, which may differ by center.
  heads.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  const hash = createHash('sha256');
  for (const { origin, seq, digest } of heads) {
    hash.update(`${origin}\n${seq}\n${Buffer.from(digest).toString('hex')}\n`);
  }
  return hash.digest('hex');
}
