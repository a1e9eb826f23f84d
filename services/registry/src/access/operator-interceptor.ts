import { createContextKey, type Interceptor } from '@connectrpc/connect';
import { VitrineError } from '@vitrine/errors';
import { type AccessChecks, authenticateCall } from './access-interceptor.js';

/** The operator a call was admitted as (`operator:<name>`), for handlers that record it. */
export const operatorKey = createContextKey<string>('', { description: 'admitted operator' });

/**
 * Admits only operators, checked as the registry checks publishing: the credential's
 * signature, window, audience, jurisdiction, revocation and proof of possession
 * (UNAUTHENTICATED or PERMISSION_DENIED as for registry calls), then an operator subject
 * with the `operator` role (PERMISSION_DENIED). For the services beside a registry that
 * answer a center's operators only, such as the sync service's GetStatus, which tells
 * whoever reaches it how replication stands; no AccessUsed event is recorded, as these
 * are not partners' access to artifacts.
 */
export function operatorInterceptor(checks: AccessChecks): Interceptor {
  return (next) => async (req) => {
    const credential = await authenticateCall(req, checks);
    if (credential.subject.kind !== 'operator' || !credential.roles.includes('operator')) {
      throw new VitrineError(
        'permission_denied',
        'this call needs an operator credential with role operator',
      );
    }
    req.contextValues.set(operatorKey, `operator:${credential.subject.id}`);
    return next(req);
  };
}
