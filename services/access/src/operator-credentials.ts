import { ACTIONS, ANY_JURISDICTION, ARTIFACT_KINDS, principalName } from '@vitrine/credentials';
import { VitrineError } from '@vitrine/errors';
import type { Kysely } from 'kysely';
import type { OperatorCaller } from './caller.js';
import type { CredentialIssuer, IssuedCredential } from './credential-issuer.js';
import type { Policies } from './policies.js';
import type { AccessDatabase } from './schema.js';

const HOUR_MS = 3_600_000;

/**
 * A short-lived credential for the calling operator, accepted at every center: audience
 * every center of every jurisdiction, jurisdiction `*`, every kind and action, the
 * account's roles, held by the account's key. Operators renew it as it runs out.
 */
export async function issueOperatorCredential(
  db: Kysely<AccessDatabase>,
  issuer: CredentialIssuer,
  policies: Policies,
  caller: OperatorCaller,
  lifetimeHours: number,
  now: Date,
): Promise<IssuedCredential> {
  return db.transaction().execute(async (tx) => {
    const account = await tx
      .selectFrom('operators')
      .select('public_key')
      .where('name', '=', caller.id)
      .executeTakeFirst();
    if (!account)
      throw new VitrineError('unauthenticated', `unknown principal ${principalName(caller)}`);
    return issuer.issue(
      tx,
      {
        subject: { kind: 'operator', id: caller.id },
        audience: policies.allCenters,
        jurisdiction: ANY_JURISDICTION,
        scope: { kinds: [...ARTIFACT_KINDS], products: [], artifacts: [], actions: [...ACTIONS] },
        roles: caller.roles,
        issuedAt: now,
        notBefore: now,
        expiresAt: new Date(now.getTime() + lifetimeHours * HOUR_MS),
        holderKey: account.public_key,
      },
      { actor: principalName(caller) },
    );
  });
}
