import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `tc -s qdisc show dev DEVICE` in `netns`: the qdiscs and their counters. */
export async function qdiscOf(netns: string, device = 'eth0'): Promise<string> {
  return (await run('tc', ['-n', netns, '-s', 'qdisc', 'show', 'dev', device])).stdout;
}

/** Bytes and packets one direction of a link has carried. */
export interface LinkCount {
  readonly bytes: number;
  readonly packets: number;
}

/** What `device` in `netns` has received and sent (`ip -s link`). */
export async function linkStats(
  netns: string,
  device = 'eth0',
): Promise<{ rx: LinkCount; tx: LinkCount }> {
  const { stdout } = await run('ip', ['-n', netns, '-j', '-s', 'link', 'show', device]);
  const [link] = JSON.parse(stdout) as { stats64: Record<'rx' | 'tx', LinkCount> }[];
  if (!link) throw new Error(`no ${device} in ${netns}`);
  return link.stats64;
}

/** Node script: the milliseconds a TCP connect to argv[1]:argv[2] takes (SYN to SYN-ACK). */
const CONNECT_TIME = `const net = require('node:net');
const started = process.hrtime.bigint();
const socket = net.connect(Number(process.argv[2]), process.argv[1]);
socket.on('connect', () => { console.log(Number(process.hrtime.bigint() - started) / 1e6); socket.destroy(); });
socket.on('error', (err) => { console.error(err.message); process.exit(1); });`;

/** One TCP handshake's round trip, in ms, from inside `netns` to `address:port`. */
export async function connectRoundTripMs(
  netns: string,
  address: string,
  port: number,
): Promise<number> {
  const argv = ['netns', 'exec', netns, process.execPath, '-e', CONNECT_TIME];
  const { stdout } = await run('ip', [...argv, address, String(port)]);
  return Number(stdout.trim());
}

const SYNC_CALL = fileURLToPath(new URL('./sync-call.ts', import.meta.url));

/**
 * One call to a sync port from inside `netns` (sync-call.ts): 'answered', or the error that
 * ended the connection. `client` is the caller's certificate and key files, if any.
 */
export async function syncCallFrom(
  netns: string,
  url: string,
  ca: string,
  client: readonly [cert: string, key: string] | [] = [],
): Promise<string> {
  const argv = ['netns', 'exec', netns, process.execPath, '--import', 'tsx', SYNC_CALL];
  const { stdout } = await run('ip', [...argv, url, ca, ...client]);
  return stdout.trim();
}
