import type { Credential } from '@vitrine/credentials';

/**
 * Who a call with a correctly signed credential speaks for: what AccessUsed names once the
 * call's proof of possession verified too, and what a refusal log names before that.
 */
export interface Attribution {
  /** `partner:<id>` or `operator:<name>`. */
  readonly principal: string;
  readonly credentialId: string;
  readonly partner: boolean;
}

/** The attribution of a verified credential. */
export function attributionOf(credential: Credential): Attribution {
  const { kind, id } = credential.subject;
  return { principal: `${kind}:${id}`, credentialId: credential.id, partner: kind === 'partner' };
}
