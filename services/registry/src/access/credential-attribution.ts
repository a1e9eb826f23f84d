import type { Credential } from '@vitrine/credentials';
import { CredentialError } from '@vitrine/credentials';

/** Who a call with a correctly signed credential speaks for: what AccessUsed names. */
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

/**
 * The attribution of a token refused for its validity window only. `readCredential` checks
 * the signature before the times, so such a token's claims are the access service's own
 * words and can name who presented it; any other refusal cannot be attributed.
 */
export function attributionOfRefused(err: unknown, token: string): Attribution | undefined {
  if (!(err instanceof CredentialError)) return undefined;
  if (err.reason !== 'expired' && err.reason !== 'not_yet_valid') return undefined;
  try {
    const signed = Buffer.from(token.split('.')[2] ?? '', 'base64url');
    const claims = JSON.parse(signed.subarray(0, signed.length - 64).toString('utf8'));
    const principal = String(claims.sub ?? '');
    const credentialId = String(claims.jti ?? '');
    if (!/^(partner|operator):/.test(principal) || !credentialId) return undefined;
    return { principal, credentialId, partner: principal.startsWith('partner:') };
  } catch {
    return undefined;
  }
}
