import type { SigningKeyPair } from '@vitrine/crypto';
import { VitrineError } from '@vitrine/errors';
import { InspectFooter, PasetoError, PublicProtocol } from 'paseto';
import {
  ImportPublicKeyFactory,
  ImportSecretKeyFactory,
  type PublicKey,
  SignFactory,
  VerifyFactory,
} from 'paseto/v4/public';
import { z } from 'zod';
import { keyIdOf, publicKeyOfPaserk, publicPaserk, secretPaserk } from './paserk.js';
import { type Scope, scopeSchema } from './scope.js';

const v4 = new PublicProtocol(
  SignFactory,
  VerifyFactory,
  ImportPublicKeyFactory,
  ImportSecretKeyFactory,
);

/** The issuer every vitrine credential names. */
export const ISSUER = 'vitrine-access';

/** Operator roles. `operator` runs centers, `approver` decides requests, `security` revokes. */
export const ROLES = ['operator', 'approver', 'security'] as const;
export type Role = (typeof ROLES)[number];

/** Who a credential, a key or a call speaks for: a partner or an operator, by id. */
export type Principal =
  | { readonly kind: 'partner'; readonly id: string }
  | { readonly kind: 'operator'; readonly id: string };

/** The jurisdiction an operator credential names: operators act at every center. */
export const ANY_JURISDICTION = '*';

/** A credential's content, as the access service issues it and centers read it. */
export interface Credential {
  /** `jti`: the credential id that revocations and AccessUsed events name. */
  readonly id: string;
  readonly subject: Principal;
  /** `aud`: ids of the centers that accept it. */
  readonly audience: readonly string[];
  /** `jur`: the jurisdiction it was granted for (`*` for operators). */
  readonly jurisdiction: string;
  readonly scope: Scope;
  /** Operator credentials only. */
  readonly roles: readonly Role[];
  readonly issuedAt: Date;
  readonly notBefore: Date;
  readonly expiresAt: Date;
  /** `cnf`: the holder's Ed25519 public key; every call proves possession of its secret half. */
  readonly holderKey: Uint8Array;
}

/** The key that signs credentials, with its PASERK id (carried in the token footer). */
export interface TokenSigner {
  readonly keyId: string;
  readonly key: SigningKeyPair;
}

/**
 * Wire form of the claims. PASETO registered claims are strings, so `aud` is the center ids
 * separated by single spaces (as OAuth writes scopes) and times are RFC 3339.
 */
const claimsSchema = z.object({
  iss: z.literal(ISSUER),
  sub: z.string().regex(/^(partner|operator):[A-Za-z0-9._-]{1,64}$/),
  aud: z.string().regex(/^[a-z][a-z0-9-]{0,31}( [a-z][a-z0-9-]{0,31})*$/),
  jur: z.string().min(1).max(16),
  scope: scopeSchema,
  roles: z.array(z.enum(ROLES)).default([]),
  iat: z.iso.datetime({ offset: true }),
  nbf: z.iso.datetime({ offset: true }),
  exp: z.iso.datetime({ offset: true }),
  jti: z.string().min(1).max(64),
  cnf: z.object({ key: z.string() }).strict(),
});

const footerSchema = z.object({ kid: z.string().startsWith('k4.pid.') }).strict();

/** Signs a credential as a PASETO v4.public token with the key id in the footer. */
export async function issueCredential(
  credential: Credential,
  signer: TokenSigner,
): Promise<string> {
  const secretKey = await v4.ImportSecretKey(secretPaserk(signer.key.secretKey));
  const claims = {
    iss: ISSUER,
    sub: `${credential.subject.kind}:${credential.subject.id}`,
    aud: credential.audience.join(' '),
    jur: credential.jurisdiction,
    scope: credential.scope,
    roles: [...credential.roles],
    iat: credential.issuedAt.toISOString(),
    nbf: credential.notBefore.toISOString(),
    exp: credential.expiresAt.toISOString(),
    jti: credential.id,
    cnf: { key: publicPaserk(credential.holderKey) },
  };
  const footer = new TextEncoder().encode(JSON.stringify({ kid: signer.keyId }));
  return v4.Sign(secretKey, claims, { footer, addIssuedAt: false });
}

/**
 * The keys whose credentials a verifier accepts, by PASERK id. Imported keys are cached, so
 * verification costs one signature check.
 */
export class TokenKeyring {
  readonly #keys = new Map<string, Promise<PublicKey>>();

  /** Replaces the accepted keys. */
  async set(keys: readonly Uint8Array[]): Promise<void> {
    const next = new Map<string, Promise<PublicKey>>();
    for (const key of keys) {
      const id = await keyIdOf(key);
      next.set(id, this.#keys.get(id) ?? v4.ImportPublicKey(publicPaserk(key)));
    }
    this.#keys.clear();
    for (const [id, key] of next) this.#keys.set(id, key);
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  get(keyId: string): Promise<PublicKey> | undefined {
    return this.#keys.get(keyId);
  }

  get size(): number {
    return this.#keys.size;
  }
}

/** Why a credential was refused. The message says which check failed and nothing more. */
export class CredentialError extends VitrineError {
  constructor(
    readonly reason: 'malformed' | 'unknown_key' | 'signature' | 'not_yet_valid' | 'expired',
    message: string,
  ) {
    super('unauthenticated', message);
  }
}

export interface ReadOptions {
  readonly now?: Date;
  /** Clock skew tolerated on `nbf` and `exp`, in seconds. */
  readonly skewSeconds?: number;
}

/** Default tolerated clock skew between the access service, centers and partners. */
export const DEFAULT_SKEW_SECONDS = 30;

/**
 * Verifies a credential: first its signature under a known key (by the footer's key id),
 * then `nbf`/`exp` within the skew, then the shape of its claims. Everything after that
 * (audience, jurisdiction, revocation, proof of possession, scope) is the center's to check.
 */
export async function readCredential(
  token: string,
  keyring: TokenKeyring,
  options: ReadOptions = {},
): Promise<Credential & { readonly keyId: string }> {
  if (!token.startsWith('v4.public.')) {
    throw new CredentialError('malformed', 'credential is not a PASETO v4.public token');
  }
  const keyId = footerKeyId(token);
  const key = keyring.get(keyId);
  if (!key) throw new CredentialError('unknown_key', 'credential is signed by an unknown key');
  let claims: unknown;
  try {
    ({ claims } = await v4.Verify(await key, token, {
      now: options.now ?? new Date(),
      clockTolerance: options.skewSeconds ?? DEFAULT_SKEW_SECONDS,
      issuer: ISSUER,
    }));
  } catch (err) {
    throw timeFailure(err) ?? new CredentialError('signature', 'credential signature is not valid');
  }
  const parsed = claimsSchema.safeParse(claims);
  const holderKey = parsed.success ? publicKeyOfPaserk(parsed.data.cnf.key) : undefined;
  if (!parsed.success || !holderKey) {
    throw new CredentialError('malformed', 'credential claims are not a vitrine credential');
  }
  const c = parsed.data;
  const [kind, id] = c.sub.split(':') as ['partner' | 'operator', string];
  return {
    keyId,
    id: c.jti,
    subject: { kind, id },
    audience: c.aud.split(' '),
    jurisdiction: c.jur,
    scope: c.scope,
    roles: c.roles,
    issuedAt: new Date(c.iat),
    notBefore: new Date(c.nbf),
    expiresAt: new Date(c.exp),
    holderKey,
  };
}

/** The key id in a token's footer (unauthenticated until the signature is checked). */
export function footerKeyId(token: string): string {
  try {
    const footer = footerSchema.parse(JSON.parse(new TextDecoder().decode(InspectFooter(token))));
    return footer.kid;
  } catch {
    throw new CredentialError('malformed', 'credential footer does not name a key id');
  }
}

function timeFailure(err: unknown): CredentialError | undefined {
  if (!(err instanceof PasetoError) || err.code !== 'ERR_PASETO_CLAIM_VALIDATION') return undefined;
  const claim = (err as PasetoError & { claim?: string }).claim;
  if (claim === 'exp') return new CredentialError('expired', 'credential has expired');
  if (claim === 'nbf') return new CredentialError('not_yet_valid', 'credential is not valid yet');
  if (claim === 'iss')
    return new CredentialError('malformed', 'credential was not issued by vitrine');
  return undefined;
}
