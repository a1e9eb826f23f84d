import type { AddressInfo, Server } from 'node:net';
import type { DescFile } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { file_grpc_health_v1_health } from '@vitrine/proto/health';
import { file_grpc_reflection_v1_reflection } from '@vitrine/proto/reflection-v1';
import { file_grpc_reflection_v1alpha_reflection } from '@vitrine/proto/reflection-v1alpha';
import { DescriptorIndex } from './descriptor-index.js';
import type { EncodedStream } from './encoded-streams/encoded-stream.js';
import { encodedStreamHandler, routeEncodedStreams } from './encoded-streams/routing.js';
import { errorInterceptor } from './error-interceptor.js';
import { closeGracefully } from './graceful-close.js';
import { registerHealthService } from './health-service.js';
import { HealthStatus } from './health-status.js';
import type { Logger } from './logger.js';
import {
  createProtocolListener,
  type RequestHandler,
  type ServerTls,
} from './protocol-listener.js';
import { registerReflectionService } from './reflection-service.js';
import { serverTelemetryInterceptor } from './telemetry-interceptors.js';

/** Largest request message a server accepts unless told otherwise (gRPC's usual 4 MiB). */
export const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

/** How long close() lets calls in flight finish before it cuts their connections. */
const DEFAULT_SHUTDOWN_GRACE_MS = 2_000;

/** What a service supplies to run its RPCs; everything else is the same for every server. */
export interface StartServerOptions {
  /** Interface to bind; 127.0.0.1 unless given (use 0.0.0.0 to accept remote callers). */
  readonly host?: string;
  /** TCP port; 0 picks a free one (see RunningServer.port). */
  readonly port: number;
  readonly routes: (router: ConnectRouter) => void;
  /**
   * Server streams written to gRPC callers as their messages' encoded pieces (see
   * encoded-streams/); routed for every other protocol too, replacing any handler
   * `routes` gave their methods.
   */
  readonly encodedStreams?: readonly EncodedStream[];
  /** Descriptors reflection serves, beyond the services routed (which are always included). */
  readonly files: readonly DescFile[];
  /** Fully-qualified service names the health service reports SERVING. */
  readonly healthServices: readonly string[];
  readonly logger: Logger;
  /** Run inside telemetry and error mapping, so domain errors they throw are mapped too. */
  readonly interceptors?: readonly Interceptor[];
  /** Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. */
  readonly readMaxBytes?: number;
  /** Serve TLS (HTTP/2 and HTTP/1.1 by ALPN) instead of plaintext. */
  readonly tls?: ServerTls;
  readonly shutdownGraceMs?: number;
  /**
   * Plain HTTP GET resources served beside the RPCs on the same port (a transparency log's
   * checkpoint and tiles), each under its own path prefix such as `/log/`.
   */
  readonly httpResources?: readonly HttpResource[];
}

/** A handler for plain HTTP requests whose path starts with `prefix`. */
export interface HttpResource {
  readonly prefix: string;
  readonly handle: RequestHandler;
}

/** A server that is accepting calls. */
export interface RunningServer {
  /** Base URL for clients, e.g. `http://127.0.0.1:50051`. */
  readonly url: string;
  readonly port: number;
  readonly health: HealthStatus;
  /**
   * Marks every service NOT_SERVING, stops accepting connections, asks handlers to wrap
   * up (their signal aborts with UNAVAILABLE), waits a short grace for calls in flight,
   * then destroys what is left. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The host part of a URL for the address a server listens on. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Binds a server and returns the port it got (the ephemeral one when asked for 0). */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The router contents every server shares: the service's routes, health and reflection. */
function routesWith(options: StartServerOptions, health: HealthStatus) {
  return (router: ConnectRouter): void => {
    options.routes(router);
    routeEncodedStreams(router, options.encodedStreams ?? []);
    registerHealthService(router, health);
    const index = new DescriptorIndex([
      ...options.files,
      ...router.handlers.map((h) => h.service.file),
      file_grpc_health_v1_health,
      file_grpc_reflection_v1_reflection,
      file_grpc_reflection_v1alpha_reflection,
    ]);
    let services: string[] = [];
    registerReflectionService(router, index, () => services);
    services = [...new Set(router.handlers.map((h) => h.service.typeName))].sort();
  };
}

/** Sends requests under a resource's prefix to it, and every other one to `next`. */
function withHttpResources(
  resources: readonly HttpResource[],
  next: RequestHandler,
): RequestHandler {
  if (resources.length === 0) return next;
  return (req, res) => {
    const resource = resources.find((r) => req.url?.startsWith(r.prefix));
    (resource?.handle ?? next)(req, res);
  };
}

/**
 * Starts a vitrine RPC server: gRPC, gRPC-Web and Connect on one port (plaintext HTTP/2
 * and HTTP/1.1, or TLS), with grpc.health.v1 and server reflection always on, domain
 * errors mapped to gRPC codes in one place, telemetry on every call, a request size
 * limit, and response compression off — artifact bytes and ciphertext do not compress,
 * and gzipping them slowed large streams (docs/decisions/0001-uncompressed-responses.md).
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const health = new HealthStatus(options.healthServices);
  const shutdown = new AbortController();
  const readMaxBytes = options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const connect = connectNodeAdapter({
    routes: routesWith(options, health),
    interceptors: [
      serverTelemetryInterceptor(),
      errorInterceptor(options.logger),
      ...(options.interceptors ?? []),
    ],
    acceptCompression: [],
    readMaxBytes,
    shutdownSignal: shutdown.signal,
  });
  const handler = encodedStreamHandler(
    options.encodedStreams ?? [],
    { logger: options.logger, readMaxBytes, shutdownSignal: shutdown.signal },
    connect,
  );
  const listener = createProtocolListener(
    withHttpResources(options.httpResources ?? [], handler),
    options.tls,
  );
  const port = await listen(listener.server, options.port, host);
  const url = `${options.tls === undefined ? 'http' : 'https'}://${urlHost(host)}:${port}`;
  options.logger.debug({ url }, 'server listening');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      health.shutdown();
      shutdown.abort(new ConnectError('server is shutting down', Code.Unavailable));
      await closeGracefully(listener, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      options.logger.debug({ url }, 'server closed');
    })();
    return closing;
  };
  return { url, port, health, close };
}
