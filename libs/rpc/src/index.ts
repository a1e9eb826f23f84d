/**
 * RPC plumbing shared by every vitrine service: server start-up (gRPC, gRPC-Web and
 * Connect on one port), health, reflection, domain-error mapping, telemetry, logging
 * and clients.
 */
export { Backoff, type BackoffClock, type BackoffPolicy, systemClock } from './backoff.js';
export {
  type ClientOptions,
  type ClientTls,
  createConnectClient,
  createGrpcClient,
  createGrpcClientTransport,
} from './clients.js';
export { DescriptorIndex } from './descriptor-index.js';
export { bytesFieldPieces, type EncodedStream } from './encoded-streams/encoded-stream.js';
export {
  badRequestDetail,
  codeName,
  codeOf,
  errorInterceptor,
  fieldViolationsOf,
  grpcCodeFor,
  toConnectError,
} from './error-interceptor.js';
export { registerHealthService } from './health-service.js';
export { HealthStatus } from './health-status.js';
export { createLogger, type Logger } from './logger.js';
export { lazyInstruments, useMeterProvider } from './meters.js';
export type { RequestHandler, ServerTls } from './protocol-listener.js';
export {
  type Readiness,
  type ReadinessCheck,
  type ReadinessOptions,
  watchReadiness,
} from './readiness.js';
export { registerReflectionService } from './reflection-service.js';
export {
  DEFAULT_READ_MAX_BYTES,
  type HttpResource,
  type RunningServer,
  type StartServerOptions,
  startServer,
} from './start-server.js';
export {
  configuredSignals,
  metricsAddress,
  startTelemetry,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.js';
export {
  clientTelemetryInterceptor,
  serverTelemetryInterceptor,
} from './telemetry-interceptors.js';
