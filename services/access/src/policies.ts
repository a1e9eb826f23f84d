import type { ArtifactKindWord } from '@vitrine/credentials';
import { FieldViolations, invalidField, VitrineError } from '@vitrine/errors';
import type { JurisdictionPolicy } from './config.js';

const HOUR_MS = 3_600_000;

/** What a request asks for, as the policy sees it. */
export interface RequestedGrant {
  readonly partnerJurisdictions: readonly string[];
  readonly jurisdiction: string;
  /** Empty means "every kind the policy allows". */
  readonly kinds: readonly ArtifactKindWord[];
  readonly notBefore: Date | undefined;
  readonly expiresAt: Date;
}

/** A credential's validity: from approval (or the requested start) to the capped end. */
export interface Window {
  readonly notBefore: Date;
  readonly expiresAt: Date;
}

/**
 * The jurisdiction policies of the access config: which centers a grant reaches, how long
 * it may last, which artifact kinds it may cover and how many approvers it needs.
 */
export class Policies {
  constructor(private readonly byCode: Readonly<Record<string, JurisdictionPolicy>>) {}

  /** Every jurisdiction with a policy. */
  get codes(): string[] {
    return Object.keys(this.byCode).sort();
  }

  /** Every center of every jurisdiction: where operator credentials are accepted. */
  get allCenters(): string[] {
    return [...new Set(Object.values(this.byCode).flatMap((p) => p.centers))].sort();
  }

  /** The policy of a jurisdiction; `invalid_argument` for one without a policy. */
  policy(code: string): JurisdictionPolicy {
    const policy = this.byCode[code];
    if (policy) return policy;
    throw invalidField(
      'jurisdiction',
      `unknown jurisdiction "${code}" (known: ${this.codes.join(', ')})`,
    );
  }

  /**
   * Checks a request against its jurisdiction's policy and returns the policy and the
   * kinds to grant; `invalid_argument` naming every limit broken.
   */
  check(
    grant: RequestedGrant,
    now: Date,
  ): { policy: JurisdictionPolicy; kinds: ArtifactKindWord[] } {
    const policy = this.policy(grant.jurisdiction);
    const v = new FieldViolations();
    v.check(
      grant.partnerJurisdictions.includes(grant.jurisdiction),
      'jurisdiction',
      `the partner is not registered in ${grant.jurisdiction} (registered: ${grant.partnerJurisdictions.join(', ')})`,
    );
    grant.kinds.forEach((kind, i) => {
      v.check(
        policy.kinds.includes(kind),
        `scope.artifact_kinds[${i}]`,
        `${kind} is not granted in ${grant.jurisdiction} (allowed: ${policy.kinds.join(', ')})`,
      );
    });
    const start = grant.notBefore && grant.notBefore > now ? grant.notBefore : now;
    v.check(grant.expiresAt > now, 'expires_at', 'must be in the future');
    v.check(
      grant.expiresAt.getTime() - start.getTime() <= policy.maxLifetimeHours * HOUR_MS,
      'expires_at',
      `the window exceeds the ${grant.jurisdiction} maximum of ${policy.maxLifetimeHours} hours`,
    );
    v.throwIfAny();
    return { policy, kinds: grant.kinds.length > 0 ? [...grant.kinds] : [...policy.kinds] };
  }

  /**
   * The window of a credential approved at `approvedAt`: it starts then (or at the
   * requested start, if later) and ends at the requested end or the policy's maximum
   * lifetime, whichever comes first. `failed_precondition` when the window has passed.
   */
  window(
    jurisdiction: string,
    requested: { notBefore: Date | null; expiresAt: Date },
    approvedAt: Date,
  ): Window {
    const maxMs = this.policy(jurisdiction).maxLifetimeHours * HOUR_MS;
    const notBefore =
      requested.notBefore && requested.notBefore > approvedAt ? requested.notBefore : approvedAt;
    const expiresAt = new Date(
      Math.min(requested.expiresAt.getTime(), notBefore.getTime() + maxMs),
    );
    if (expiresAt <= notBefore) {
      throw new VitrineError(
        'failed_precondition',
        'the requested window has already ended: the partner must ask again',
      );
    }
    return { notBefore, expiresAt };
  }
}
