import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { Health, HealthCheckResponseSchema } from '@vitrine/proto/health';
import type { HealthStatus } from './health-status.js';

/**
 * Serves the standard gRPC health protocol (grpc.health.v1) from a HealthStatus, so
 * Kubernetes probes, load balancers and `grpc-health-probe` can ask whether a server —
 * or one service on it — should get traffic. It reveals nothing but serving states.
 *
 * Check answers the status now, NOT_FOUND for a service the server does not host (as
 * the protocol requires); Watch streams the status and every change, and ends once the
 * server reports NOT_SERVING on shutdown.
 */
export function registerHealthService(router: ConnectRouter, health: HealthStatus): void {
  router.service(Health, {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      }
      return create(HealthCheckResponseSchema, { status });
    },
    async *watch(req, ctx) {
      for await (const status of health.watch(req.service, ctx.signal)) {
        yield create(HealthCheckResponseSchema, { status });
      }
    },
  });
}
