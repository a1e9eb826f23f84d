import { randomBytes } from 'node:crypto';
import { type Credential, issueCredential } from '@vitrine/credentials';
import { DecisionKind } from '@vitrine/proto/access-decision';
import type { Transaction } from 'kysely';
import { type DecisionLog, tokenDigest } from './decision-log.js';
import type { AccessDatabase } from './schema.js';
import type { TokenKeys } from './token-keys.js';

/** A credential as issued: its id, the PASETO token and when it expires. */
export interface IssuedCredential {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: Date;
}

/** A new credential id (`jti`): `c-` and 96 random bits in hex. */
export function newCredentialId(): string {
  return `c-${randomBytes(12).toString('hex')}`;
}

/**
 * Signs credentials with the active token key and records each one (id, holder, request,
 * key id, validity, token) in the same transaction as the approval that caused it, so
 * every credential a center may see is on record here, and in the access log.
 */
export class CredentialIssuer {
  constructor(
    private readonly keys: TokenKeys,
    private readonly log: DecisionLog,
  ) {}

  async issue(
    tx: Transaction<AccessDatabase>,
    claims: Omit<Credential, 'id'>,
    origin: { readonly requestId?: string; readonly actor: string },
  ): Promise<IssuedCredential> {
    const credential: Credential = { ...claims, id: newCredentialId() };
    const signer = this.keys.signer;
    const token = await issueCredential(credential, signer);
    const subject = credential.subject;
    await tx
      .insertInto('credentials')
      .values({
        id: credential.id,
        subject: `${subject.kind}:${subject.id}`,
        partner_id: subject.kind === 'partner' ? subject.id : null,
        request_id: origin.requestId ?? null,
        key_id: signer.keyId,
        token,
        issued_at: credential.issuedAt,
        not_before: credential.notBefore,
        expires_at: credential.expiresAt,
      })
      .execute();
    await this.log.record(tx, {
      kind:
        subject.kind === 'partner'
          ? DecisionKind.CREDENTIAL_ISSUED
          : DecisionKind.OPERATOR_CREDENTIAL_ISSUED,
      atMs: BigInt(credential.issuedAt.getTime()),
      actor: origin.actor,
      ...(subject.kind === 'partner' ? { partnerId: subject.id } : {}),
      requestId: origin.requestId ?? '',
      credentialId: credential.id,
      keyId: signer.keyId,
      jurisdictions: [credential.jurisdiction],
      notBeforeMs: BigInt(credential.notBefore.getTime()),
      expiresAtMs: BigInt(credential.expiresAt.getTime()),
      tokenDigest: tokenDigest(token),
    });
    return { id: credential.id, token, expiresAt: credential.expiresAt };
  }
}
