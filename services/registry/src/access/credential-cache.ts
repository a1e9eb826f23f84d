import type { Credential } from '@vitrine/credentials';

/** A credential whose signature verified, with the token key id its footer names. */
export type VerifiedCredential = Credential & { readonly keyId: string };

interface Entry {
  readonly credential: VerifiedCredential;
  /** The trust snapshot version it was verified under. */
  readonly version: bigint | undefined;
}

/** Credentials a center remembers at most (each a few hundred bytes). */
const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * Credentials already verified (signature under a trusted key, claims well formed), keyed
 * by the exact token, so a partner's every call does not pay for a PASETO verification and
 * claim parsing again. Nothing else is remembered: audience, jurisdiction, revocation, proof
 * of possession and scope are checked on every call. An entry serves only while the
 * credential is within its validity window (with the skew) and while the trust snapshot it
 * was verified under is in force: a new snapshot may drop the token key that signed it.
 * Bounded, least recently used first out.
 */
export class CredentialCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly skewSeconds: number,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** The verified credential of `token`, if it was verified under `version` and is valid `now`. */
  get(token: string, version: bigint | undefined, now: Date): VerifiedCredential | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    this.#entries.delete(token);
    if (entry.version !== version || !this.#valid(entry.credential, now)) return undefined;
    this.#entries.set(token, entry);
    return entry.credential;
  }

  /** Remembers a credential just verified under trust snapshot `version`. */
  set(token: string, version: bigint | undefined, credential: VerifiedCredential): void {
    this.#entries.delete(token);
    this.#entries.set(token, { credential, version });
    if (this.#entries.size <= this.maxEntries) return;
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** `nbf` and `exp` as `readCredential` checks them, with the same tolerated skew. */
  #valid(credential: Credential, now: Date): boolean {
    const skew = this.skewSeconds * 1000;
    const at = now.getTime();
    return (
      at >= credential.notBefore.getTime() - skew && at <= credential.expiresAt.getTime() + skew
    );
  }
}
