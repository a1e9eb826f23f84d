import { createServer } from 'node:net';

/**
 * A loopback port nothing listens on right now, for a service that must know its port
 * before it starts (a peer's manifest names it). Taken below the ephemeral range, so no
 * connection the system opens meanwhile can hold it when the service comes to listen.
 */
export function freePort(): Promise<number> {
  return freePortBlock(1);
}

/** Linux hands out outgoing and port-0 sockets from 32768 up; a block below it stays clear of them. */
const BELOW_EPHEMERAL = { from: 20_000, to: 32_768 };

/**
 * The first of `span` consecutive loopback ports, all free right now, below the ephemeral
 * range, so that no client connection or port-0 listener elsewhere in the run can take one
 * before the caller listens on it (as `vitrine dev --base-port` needs).
 */
export async function freePortBlock(
  span: number,
  range: { from: number; to: number } = BELOW_EPHEMERAL,
): Promise<number> {
  const slots = Math.floor((range.to - range.from) / span);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = range.from + span * Math.floor(Math.random() * slots);
    if (await allFree(base, span)) return base;
  }
  throw new Error(`no ${span} consecutive free ports found from ${range.from} to ${range.to}`);
}

async function allFree(base: number, span: number): Promise<boolean> {
  for (let port = base; port < base + span; port += 1) {
    if (!(await canListen(port))) return false;
  }
  return true;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
