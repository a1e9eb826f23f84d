import * as http from 'node:http';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { answerUndecodableAsInvalid } from './undecodable-request.js';
import { finishRequestFirst } from './unread-request.js';

/** The HTTP/2 connection preface every h2c client sends first (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** A connection that has not sent enough to tell its protocol by then is closed. */
const SNIFF_TIMEOUT_MS = 10_000;

/** One request handler for both HTTP versions, as connect-node's adapter provides. */
export type RequestHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Certificates for serving over TLS; `ca` with `requestCert` asks clients for theirs (mTLS). */
export interface ServerTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca?: string | Buffer;
  readonly requestCert?: boolean;
}

/**
 * The sockets side of a server: what listens, and what close() must drain — every open
 * TCP connection, every HTTP/2 session (to send GOAWAY) and the requests in flight.
 */
export interface ProtocolListener {
  readonly server: net.Server;
  readonly sockets: Set<net.Socket>;
  readonly sessions: Set<http2.ServerHttp2Session>;
  /** Requests whose response has not closed yet, over either HTTP version. */
  activeRequests(): number;
  /** From now on HTTP/1.1 responses carry `Connection: close`, so clients reconnect elsewhere. */
  drain(): void;
  /** Closes HTTP/1.1 keep-alive connections that have no request in flight. */
  closeIdleHttp1(): void;
}

/** The request accounting part of a listener, wrapped around the RPC handler. */
type Accounting = Pick<ProtocolListener, 'activeRequests' | 'drain'> & { handler: RequestHandler };

/** Counts requests in flight and asks HTTP/1.1 clients to disconnect once draining. */
function account(handler: RequestHandler): Accounting {
  let active = 0;
  let draining = false;
  return {
    handler: (req, res) => {
      active++;
      res.once('close', () => active--);
      if (draining && req.httpVersionMajor === 1) res.setHeader('connection', 'close');
      if (req.httpVersionMajor === 2) {
        finishRequestFirst(res as http2.Http2ServerResponse);
      }
      answerUndecodableAsInvalid(req, res);
      handler(req, res);
    },
    activeRequests: () => active,
    drain: () => {
      draining = true;
    },
  };
}

/**
 * Reads a new connection's first bytes and hands it to the HTTP/2 server when they are
 * the client preface, to the HTTP/1.1 server otherwise; the bytes read are put back.
 */
function sniff(socket: net.Socket, h1: http.Server, h2: http2.Http2Server): void {
  let seen = Buffer.alloc(0);
  const onError = (): void => void socket.destroy();
  const onData = (chunk: Buffer): void => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
    if (isH2 && n < PREFACE.length) return;
    socket.off('data', onData).off('error', onError).setTimeout(0);
    if (isH2) {
      // The HTTP/2 session reads what is buffered on the socket before its handle.
      socket.pause();
      socket.unshift(seen);
      h2.emit('connection', socket);
    } else {
      // The HTTP/1.1 parser reads the socket handle directly, so replay the bytes to it.
      h1.emit('connection', socket);
      socket.emit('data', seen);
    }
  };
  socket.on('data', onData).on('error', onError);
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
}

/** Tracks a server's sessions and raw sockets so close() can drain and then end them. */
function track(
  listening: net.Server,
  h2: http2.Http2Server | http2.Http2SecureServer,
): Pick<ProtocolListener, 'sockets' | 'sessions'> {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  listening.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  h2.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return { sockets, sessions };
}

/**
 * HTTP/2 flow-control windows sized for bulk transfer. With the 64 KiB default a stream
 * stalls for a WINDOW_UPDATE every 64 KiB, which capped artifact streams well below what
 * the rest of the path does; 8 MiB per stream (and per connection) keeps bytes flowing
 * while still bounding what a slow reader buffers.
 */
export const HTTP2_WINDOW_BYTES = 8 * 1024 * 1024;
const HTTP2_SETTINGS: http2.Settings = { initialWindowSize: HTTP2_WINDOW_BYTES };

/** Raises the connection-level window, which SETTINGS cannot change (RFC 9113 §6.9.2). */
export function widenSessionWindow(session: http2.Http2Session): void {
  session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
}

/**
 * Plaintext gRPC, gRPC-Web and Connect on one port: HTTP/2 with prior knowledge (what
 * grpc clients, grpcurl and buf curl speak without TLS) and HTTP/1.1 (curl, browsers).
 * Node negotiates both only through TLS ALPN, so the first bytes decide instead.
 */
function plaintextListener(accounting: Accounting): ProtocolListener {
  const { handler, ...requests } = accounting;
  // requestTimeout 0: an upload over HTTP/1.1 may take longer than Node's default 5 min.
  const h1 = http.createServer({ requestTimeout: 0 }, handler as http.RequestListener);
  const h2 = http2.createServer(
    { settings: HTTP2_SETTINGS },
    handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  h2.on('session', widenSessionWindow);
  const server = createNetServer((socket) => sniff(socket, h1, h2));
  const closeIdleHttp1 = () => h1.closeIdleConnections();
  return { server, ...track(server, h2), ...requests, closeIdleHttp1 };
}

/** TLS (optionally mutual) with ALPN choosing HTTP/2 or HTTP/1.1, for production. */
function tlsListener(accounting: Accounting, tls: ServerTls): ProtocolListener {
  const { handler, ...requests } = accounting;
  const server = http2.createSecureServer(
    {
      allowHTTP1: true,
      settings: HTTP2_SETTINGS,
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.requestCert ?? false,
    },
    handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  server.on('session', widenSessionWindow);
  return { server, ...track(server, server), ...requests, closeIdleHttp1: () => {} };
}

/** Creates the listener for a server: plaintext with protocol sniffing, or TLS with ALPN. */
export function createProtocolListener(handler: RequestHandler, tls?: ServerTls): ProtocolListener {
  const accounting = account(handler);
  return tls === undefined ? plaintextListener(accounting) : tlsListener(accounting, tls);
}
