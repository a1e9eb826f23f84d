import { createContextKey } from '@connectrpc/connect';
import type { Principal, Role } from './credential.js';

/**
 * Who made a call, as a server's interceptor established it: a principal that proved
 * possession of its key (and, at a center, holds a valid credential), with the operator
 * roles it holds (none for a partner). At the access service, `newcomer` is a partner
 * registering itself: it proved possession of the key it registers, nothing more.
 */
export type Caller =
  | (Principal & { readonly roles: readonly Role[] })
  | { readonly kind: 'newcomer' };

/** A caller that is a registered partner or operator (not a newcomer). */
export type AuthenticatedCaller = Exclude<Caller, { kind: 'newcomer' }>;

/**
 * Where a server's interceptor leaves the caller for the handlers. Unset where no
 * interceptor authenticates calls (a center open to its local operator).
 */
export const callerKey = createContextKey<Caller | undefined>(undefined, {
  description: 'caller',
});

/** A principal's name in headers, events and logs: `partner:<id>` or `operator:<name>`. */
export function principalName(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}
