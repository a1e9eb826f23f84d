import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Revocation } from '@vitrine/proto/access';

/** What a revocation check needs to know about a credential. */
export interface RevocableCredential {
  readonly id: string;
  readonly subject: { readonly kind: string; readonly id: string };
  readonly issuedAt: Date;
  readonly keyId: string;
}

/**
 * The revocations of a trust snapshot, indexed for a check per call: by credential id (that
 * `jti`), by partner (every credential of the partner issued at or before the revocation),
 * and by token key (every credential whose footer names that key).
 */
export class Revocations {
  readonly #credentials = new Set<string>();
  /** Partner id → the latest revocation time: credentials issued up to then are revoked. */
  readonly #partners = new Map<string, number>();
  readonly #keys = new Set<string>();

  constructor(revocations: readonly Revocation[] = []) {
    for (const r of revocations) this.#add(r);
  }

  /** True when any revocation covers `credential`. */
  covers(credential: RevocableCredential): boolean {
    if (this.#credentials.has(credential.id) || this.#keys.has(credential.keyId)) return true;
    if (credential.subject.kind !== 'partner') return false;
    const until = this.#partners.get(credential.subject.id);
    return until !== undefined && credential.issuedAt.getTime() <= until;
  }

  get size(): number {
    return this.#credentials.size + this.#partners.size + this.#keys.size;
  }

  #add(r: Revocation): void {
    const target = r.target;
    switch (target.case) {
      case 'credentialId':
        this.#credentials.add(target.value);
        return;
      case 'partnerId': {
        const at = r.at ? timestampMs(r.at) : Number.POSITIVE_INFINITY;
        this.#partners.set(target.value, Math.max(at, this.#partners.get(target.value) ?? at));
        return;
      }
      case 'keyId':
        this.#keys.add(target.value);
        return;
      case undefined:
        // A revocation that names nothing revokes nothing; the access service never sends one.
        return;
      default: {
        const unknown: never = target;
        throw new Error(`unknown revocation target ${String(unknown)}`);
      }
    }
  }
}
