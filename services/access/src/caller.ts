import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { Role } from '@vitrine/credentials';
import { VitrineError } from '@vitrine/errors';

/**
 * Who made a call, as the authentication interceptor established it from the
 * principal's registered key. `newcomer` is a partner registering itself: it proved
 * possession of the key it registers, nothing more.
 */
export type Caller =
  | { readonly kind: 'partner'; readonly id: string; readonly principal: string }
  | {
      readonly kind: 'operator';
      readonly id: string;
      readonly principal: string;
      readonly roles: readonly Role[];
    }
  | { readonly kind: 'newcomer' };

/** An authenticated partner or operator (not a newcomer). */
export type Principal = Exclude<Caller, { kind: 'newcomer' }>;
export type OperatorCaller = Extract<Caller, { kind: 'operator' }>;

/** Where the interceptor leaves the caller for the handlers. */
export const callerKey = createContextKey<Caller | undefined>(undefined, {
  description: 'access caller',
});

/** The authenticated caller of a handler; `unauthenticated` when there is none. */
export function callerOf(ctx: HandlerContext): Principal {
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
export function requireOperator(caller: Principal, ...roles: readonly Role[]): OperatorCaller {
  if (caller.kind !== 'operator') {
    throw new VitrineError('permission_denied', 'only operators may do this');
  }
  if (roles.length > 0 && !roles.some((role) => caller.roles.includes(role))) {
    throw new VitrineError(
      'permission_denied',
      `${caller.principal} lacks the role this needs (${roles.join(' or ')})`,
    );
  }
  return caller;
}

/** Whether the caller may see what belongs to `partnerId`: operators see all, a partner its own. */
export function mayActFor(caller: Principal, partnerId: string): boolean {
  return caller.kind === 'operator' || caller.id === partnerId;
}
