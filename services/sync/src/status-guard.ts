import type { Interceptor } from '@connectrpc/connect';
import { SyncService } from '@vitrine/proto/sync';

/**
 * Puts GetStatus behind `operators` (the registry's operator check: an operator
 * credential valid at this center, with proof of possession). GetStatus tells whoever
 * reaches the port which peers this center talks to and how far each one is, so it
 * answers the center's operators only; the other methods are for peers, which the
 * handshake authenticates.
 */
export function statusGuard(operators: Interceptor): Interceptor {
  return (next) => {
    const guarded = operators(next);
    return (req) =>
      req.method.parent.typeName === SyncService.typeName &&
      req.method.name === SyncService.method.getStatus.name
        ? guarded(req)
        : next(req);
  };
}
