import type { HandlerContext } from '@connectrpc/connect';
import {
  type AuthenticatedCaller,
  callerKey,
  type Principal,
  principalName,
  type Role,
} from '@vitrine/credentials';
import { VitrineError } from '@vitrine/errors';

/** An authenticated operator. */
export type OperatorCaller = Extract<AuthenticatedCaller, { kind: 'operator' }>;

/** The authenticated caller of a handler; `unauthenticated` when there is none. */
export function callerOf(ctx: HandlerContext): AuthenticatedCaller {
  const caller = ctx.values.get(callerKey);
  if (caller === undefined || caller.kind === 'newcomer') {
    throw new VitrineError('unauthenticated', 'this call needs a registered principal and proof');
  }
  return caller;
}

/**
 * The caller as an operator holding one of `roles` (any operator when none is given);
 * `permission_denied` naming the roles otherwise.
 */
export function requireOperator(
  caller: AuthenticatedCaller,
  ...roles: readonly Role[]
): OperatorCaller {
  if (caller.kind !== 'operator') {
    throw new VitrineError('permission_denied', 'only operators may do this');
  }
  if (roles.length > 0 && !roles.some((role) => caller.roles.includes(role))) {
    throw new VitrineError(
      'permission_denied',
      `${principalName(caller)} lacks the role this needs (${roles.join(' or ')})`,
    );
  }
  return caller;
}

/** Whether the caller may see what belongs to `partnerId`: operators see all, a partner its own. */
export function mayActFor(caller: Principal, partnerId: string): boolean {
  return caller.kind === 'operator' || caller.id === partnerId;
}
