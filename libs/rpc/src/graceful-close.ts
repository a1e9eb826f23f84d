import { setTimeout as sleep } from 'node:timers/promises';
import type { ProtocolListener } from './protocol-listener.js';

/** How often the drain loop looks at what is still open. */
const TICK_MS = 20;

/**
 * Stops a listener the way clients cope with best: no new connections, GOAWAY on every
 * HTTP/2 session (RFC 9113 §6.8) so clients move elsewhere, HTTP/1.1 keep-alive
 * connections closed once idle, and every connection ended once no request is in
 * flight. Whatever is still open after `graceMs` is destroyed, so a stuck call cannot
 * keep a process from stopping.
 */
export async function closeGracefully(listener: ProtocolListener, graceMs: number): Promise<void> {
  listener.drain();
  const stopped = new Promise<void>((resolve) => {
    listener.server.close(() => resolve());
  });
  for (const session of listener.sessions) session.close();
  const deadline = performance.now() + graceMs;
  while (listener.sockets.size > 0 && performance.now() < deadline) {
    listener.closeIdleHttp1();
    if (listener.activeRequests() === 0) {
      for (const socket of listener.sockets) socket.end();
    }
    await sleep(TICK_MS);
  }
  for (const socket of listener.sockets) socket.destroy();
  await stopped;
}
