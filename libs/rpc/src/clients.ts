import type * as http2 from 'node:http2';
import type { DescService } from '@bufbuild/protobuf';
import { type Client, createClient, type Interceptor, type Transport } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node';
import { HTTP2_WINDOW_BYTES, widenSessionWindow } from './protocol-listener.js';
import { DEFAULT_READ_MAX_BYTES } from './start-server.js';
import { clientTelemetryInterceptor } from './telemetry-interceptors.js';

/** Certificates a client presents and trusts when calling a TLS server. */
export interface ClientTls {
  /** CA bundle the server's certificate must chain to. */
  readonly ca?: string | Buffer;
  /** The client's own certificate and key, for mutual TLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Name to verify the server certificate against, when it differs from the URL host. */
  readonly servername?: string;
}

/** How a client calls; every field has a default that suits vitrine's services. */
export interface ClientOptions {
  /** Largest response message accepted; 4 MiB unless given. */
  readonly readMaxBytes?: number;
  /** Run inside the telemetry interceptor, e.g. to attach credentials. */
  readonly interceptors?: readonly Interceptor[];
  readonly tls?: ClientTls;
  readonly defaultTimeoutMs?: number;
  /** Connect clients only: send JSON instead of binary protobuf (readable, but bytes fields are base64 and slow). */
  readonly json?: boolean;
}

/** Transport options every vitrine client shares: telemetry, no compression, size limit. */
function common(options: ClientOptions) {
  return {
    interceptors: [clientTelemetryInterceptor(), ...(options.interceptors ?? [])],
    acceptCompression: [],
    readMaxBytes: options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    ...(options.defaultTimeoutMs === undefined
      ? {}
      : { defaultTimeoutMs: options.defaultTimeoutMs }),
  };
}

/** Node TLS options from ClientTls, leaving out what was not given. */
function tlsOptions(tls: ClientTls | undefined): Record<string, string | Buffer> {
  if (tls === undefined) return {};
  const entries = Object.entries(tls).filter(([, value]) => value !== undefined);
  return Object.fromEntries(entries) as Record<string, string | Buffer>;
}

/** The gRPC transport over HTTP/2 (h2c for http:// URLs), for callers that make many calls. */
export function createGrpcClientTransport(baseUrl: string, options: ClientOptions = {}): Transport {
  const nodeOptions = {
    ...tlsOptions(options.tls),
    settings: { initialWindowSize: HTTP2_WINDOW_BYTES },
  };
  return createGrpcTransport({
    baseUrl,
    ...common(options),
    sessionManager: new WideWindowSessionManager(baseUrl, {}, nodeOptions),
  });
}

/**
 * Connect's HTTP/2 session manager with the connection-level receive window widened on
 * every new connection. SETTINGS widen each stream's window, but the connection's stays at
 * 64 KiB unless raised explicitly, and every response stream on the connection shares it:
 * a peer streaming chunks on a few calls at once then waits a round trip per 64 KiB.
 */
class WideWindowSessionManager extends Http2SessionManager {
  readonly #widened = new WeakSet<http2.Http2Session>();

  override async request(
    ...args: Parameters<Http2SessionManager['request']>
  ): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session && !this.#widened.has(session)) {
      this.#widened.add(session);
      widenSessionWindow(session);
    }
    return stream;
  }
}

/**
 * A typed client speaking gRPC over HTTP/2 — what services use to call each other and
 * the CLI uses for transfers: one multiplexed connection, the caller's trace carried
 * along, responses uncompressed (artifact bytes and ciphertext do not compress, and gzip
 * slowed downloads: docs/decisions/0001-uncompressed-responses.md), and a 4 MiB message
 * limit by default.
 */
export function createGrpcClient<T extends DescService>(
  service: T,
  baseUrl: string,
  options: ClientOptions = {},
): Client<T> {
  return createClient(service, createGrpcClientTransport(baseUrl, options));
}

/**
 * A typed client speaking the Connect protocol over HTTP/1.1, the way curl, browsers
 * and proxies that only know HTTP/1.1 reach a server. Binary protobuf unless `json` is
 * set: JSON carries bytes as base64, far slower for artifact bytes
 * (docs/decisions/0002-binary-protobuf-over-connect.md).
 */
export function createConnectClient<T extends DescService>(
  service: T,
  baseUrl: string,
  options: ClientOptions = {},
): Client<T> {
  const transport = createConnectTransport({
    baseUrl,
    httpVersion: '1.1',
    useBinaryFormat: options.json !== true,
    ...common(options),
    nodeOptions: tlsOptions(options.tls),
  });
  return createClient(service, transport);
}
