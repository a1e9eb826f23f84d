/** What a revocation check needs to know about a credential: its id (`jti`). */
export interface RevocableCredential {
  readonly id: string;
}

/**
 * The revocations of a trust snapshot, indexed for a check per call: the ids of every
 * revoked credential. The access service resolves revocations by partner and by token key
 * into the credentials they cover, so a center learns ids, never who holds them or why.
 */
export class Revocations {
  readonly #credentials: ReadonlySet<string>;

  constructor(credentialIds: readonly string[] = []) {
    this.#credentials = new Set(credentialIds);
  }

  /** True when the credential is revoked. */
  covers(credential: RevocableCredential): boolean {
    return this.#credentials.has(credential.id);
  }

  get size(): number {
    return this.#credentials.size;
  }
}
