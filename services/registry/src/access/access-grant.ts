import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { type Action, type Scope, scopeAllows, scopeCovers } from '@vitrine/credentials';
import { VitrineError } from '@vitrine/errors';
import { isUnlimited, type ScopeLimit } from './scope-filter.js';

/** The facts of an artifact a grant is checked against. */
export interface GrantedArtifact {
  readonly id: string;
  readonly kind: string;
  readonly product: string;
  readonly residency: readonly string[];
}

/**
 * A refusal because the credential's scope does not cover the call: PERMISSION_DENIED, or,
 * for an artifact or finding a partner's scope hides, the very NOT_FOUND a missing one gets.
 * `reason` keeps the precise cause for the log and the AccessUsed record.
 */
export class ScopeRefusal extends VitrineError {
  readonly reason: string;

  constructor(message: string, hidden?: VitrineError) {
    super(hidden?.code ?? 'permission_denied', hidden?.message ?? message);
    this.reason = message;
  }
}

/** What one call concerned, for its AccessUsed record. */
export interface CallSubject {
  artifactId: string;
  findingId: string;
  residency: readonly string[];
}

/**
 * What the caller of one registry call may do with artifacts and findings. The access
 * interceptor establishes it from a verified credential; handlers check it against the
 * artifacts they touch (the last of the access checks) and note what the call concerned.
 */
export class AccessGrant {
  readonly subject: CallSubject = { artifactId: '', findingId: '', residency: [] };

  constructor(
    /** `partner:<id>` or `operator:<name>`: the actor events name. */
    readonly principal: string,
    private readonly scope: Scope,
  ) {}

  /** Refuses at once when the scope allows `action` on nothing. */
  requireAction(action: Action): void {
    if (!scopeAllows(this.scope, action)) {
      throw new ScopeRefusal(`credential does not allow ${action}`);
    }
  }

  /**
   * Refuses unless the scope covers `action` on every artifact (a finding is covered when
   * all its artifacts are). Artifacts this center does not hold are passed with empty facts:
   * a scope that narrows by kind or product does not cover them. A partner is refused with
   * `hidden(outside)`, the NOT_FOUND it would get had those artifacts not existed; an
   * operator with the precise PERMISSION_DENIED.
   */
  require(
    action: Action,
    artifacts: readonly GrantedArtifact[],
    about: Partial<CallSubject>,
    hidden: (outside: readonly GrantedArtifact[]) => VitrineError,
  ): void {
    Object.assign(this.subject, about);
    const outside = artifacts.filter((a) => !this.covers(action, a));
    if (outside.length === 0) return;
    const reason = `credential does not allow ${action} on artifact ${outside.map((a) => a.id).join(', ')}`;
    throw new ScopeRefusal(
      reason,
      this.principal.startsWith('partner:') ? hidden(outside) : undefined,
    );
  }

  /** True when the scope covers `action` on the artifact. */
  covers(action: Action, artifact: GrantedArtifact): boolean {
    return scopeCovers(this.scope, artifact, action);
  }

  /** What a listing may show for `action`: undefined when the scope narrows nothing. */
  listable(action: Action): ScopeLimit | undefined {
    this.requireAction(action);
    return this.limit();
  }

  /** The artifacts the scope covers, whatever the action: undefined when it narrows nothing. */
  limit(): ScopeLimit | undefined {
    return isUnlimited(this.scope) ? undefined : this.scope;
  }
}

/** The grant of the call being handled; set by the access interceptor. */
export const grantKey = createContextKey<AccessGrant | undefined>(undefined, {
  description: 'access grant',
});

/** The grant of a call; a call without one never reached a handler through the interceptor. */
export function grantOf(ctx: HandlerContext): AccessGrant {
  const grant = ctx.values.get(grantKey);
  if (!grant) throw new VitrineError('internal', 'registry call without an access grant');
  return grant;
}
