import type { TokenSigner } from '@vitrine/credentials';
import { DecisionKind } from '@vitrine/proto/access-decision';
import type { Kysely } from 'kysely';
import type { DecisionLog } from './decision-log.js';
import type { AccessDatabase } from './schema.js';
import type { TokenKeys } from './token-keys.js';
import { bumpTrustVersion, type TrustSnapshots } from './trust-snapshots.js';

/**
 * Makes a new token key the one that signs. The old key is retired, not removed: it stays
 * in trust snapshots until the last credential it signed has expired, so nobody's
 * credential stops working because of a rotation. Centers learn the new key at once;
 * the access log records the rotation, with the new key, in the same transaction.
 */
export async function rotateTokenKey(
  db: Kysely<AccessDatabase>,
  keys: TokenKeys,
  trust: TrustSnapshots,
  log: DecisionLog,
  actor: string,
  now: Date,
): Promise<{ signer: TokenSigner; createdAt: Date }> {
  const signer = await db.transaction().execute(async (tx) => {
    const next = await keys.createNext(tx, now);
    await bumpTrustVersion(tx);
    await log.record(tx, {
      kind: DecisionKind.KEY_ROTATED,
      atMs: BigInt(now.getTime()),
      actor,
      keyId: next.keyId,
      publicKey: next.key.publicKey,
    });
    return next;
  });
  keys.activate(signer);
  await trust.publish();
  return { signer, createdAt: now };
}
