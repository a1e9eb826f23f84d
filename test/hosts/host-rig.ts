import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every namespace of a rig is named `vt-<host>-<pid of the process that made it>`. */
const NAME = /^vt-([a-z]+)-(\d+)\b/;

/** Addresses come from 198.18.0.0/15 (RFC 2544 §C.2.2), reserved for benchmarking. */
const SUBNET = '198.18.0';

/** One host to make: its name and the one-way delay its link adds to what it sends. */
export interface HostSpec {
  readonly name: string;
  readonly delayMs: number;
}

/** One host of a running rig. */
export interface RigHost {
  readonly name: string;
  /** Its network namespace: run a command there with `ip netns exec NETNS …`. */
  readonly netns: string;
  /** Its address on the rig's bridge, in 198.18.0.0/15. */
  readonly address: string;
  /** One-way delay its link adds to every packet it sends (0 when netem is missing). */
  readonly delayMs: number;
}

/** Whether the WAN conditions (tc netem on every host's link) are in place, and if not why. */
export type WanConditions =
  | { readonly netem: true; readonly lossPercent: number }
  | { readonly netem: false; readonly reason: string };

/** Hosts in network namespaces joined by a bridge, as machines on a WAN. */
export interface HostRig {
  readonly hosts: ReadonlyMap<string, RigHost>;
  readonly wan: WanConditions;
  /** The host named `name`; throws for a name the rig does not have. */
  host(name: string): RigHost;
  /** Ends what still runs in the rig's namespaces and deletes them. */
  destroy(): Promise<void>;
}

/**
 * Why this machine cannot make a rig (not root, no `ip netns`), or undefined when it can:
 * it makes and deletes one namespace to find out.
 */
export async function hostRigUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root: ip netns needs root';
  const probe = `vt-probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
    return undefined;
  } catch (err) {
    return `ip netns is unavailable: ${(err as Error).message.trim()}`;
  }
}

/** Deletes the namespaces of rigs whose process is gone (a run that was killed). */
export async function removeStaleRigs(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const stale = stdout
    .split('\n')
    .map((line) => NAME.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && !alive(Number(m[2])))
    .map((m) => m[0]);
  for (const netns of stale) await deleteNamespace(netns);
  return stale;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what runs in `netns` (processes of the run that made it) and deletes it. */
async function deleteNamespace(netns: string): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', netns]).then(
    ({ stdout }) => stdout.split('\n').filter(Boolean).map(Number),
    () => [],
  );
  for (const pid of pids) killQuietly(pid);
  await run('ip', ['netns', 'del', netns]).catch(() => undefined);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * Makes one network namespace per host plus one holding the bridge (`vt-wan-<pid>`), a veth
 * pair from each host's `eth0` to a bridge port, addresses 198.18.0.10, .11, … in host
 * order, and on each `eth0` a `tc netem` qdisc delaying what the host sends by its
 * `delayMs` and dropping `lossPercent` of it — so the round trip between two hosts is the
 * sum of their delays. Where the kernel has no netem the rig runs without, and says why
 * in `wan`. Stale rigs of killed runs are removed first; the rig removes itself when this
 * process exits.
 */
export async function createHostRig(specs: readonly HostSpec[], lossPercent = 1): Promise<HostRig> {
  await removeStaleRigs();
  const wanNs = `vt-wan-${process.pid}`;
  const namespaces = [wanNs, ...specs.map((s) => `vt-${s.name}-${process.pid}`)];
  const removeAtExit = () => {
    for (const netns of namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
      } catch {
        // not made, or deleted already
      }
    }
  };
  process.once('exit', removeAtExit);
  const destroy = async () => {
    process.off('exit', removeAtExit);
    for (const netns of namespaces) await deleteNamespace(netns);
  };
  try {
    await run('ip', ['netns', 'add', wanNs]);
    await ipIn(wanNs, 'link', 'set', 'lo', 'up');
    await ipIn(wanNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ipIn(wanNs, 'link', 'set', 'br0', 'up');
    const made = await Promise.all(specs.map((spec, i) => addHost(wanNs, spec, i)));
    const wan = await applyWan(made, lossPercent);
    const hosts = new Map(made.map((h) => [h.name, wan.netem ? h : { ...h, delayMs: 0 }] as const));
    return {
      hosts,
      wan,
      host(name) {
        const found = hosts.get(name);
        if (!found) throw new Error(`the rig has no host '${name}'`);
        return found;
      },
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

async function addHost(wanNs: string, spec: HostSpec, index: number): Promise<RigHost> {
  const netns = `vt-${spec.name}-${process.pid}`;
  const address = `${SUBNET}.${10 + index}`;
  const port = `port-${spec.name}`.slice(0, 15);
  await run('ip', ['netns', 'add', netns]);
  await ipIn(wanNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  await ipIn(wanNs, 'link', 'set', port, 'master', 'br0', 'up');
  await ipIn(netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
  await ipIn(netns, 'link', 'set', 'eth0', 'up');
  await ipIn(netns, 'link', 'set', 'lo', 'up');
  return { name: spec.name, netns, address, delayMs: spec.delayMs };
}

/** `tc netem` on each host's eth0; the first refusal (no sch_netem) ends the attempt. */
async function applyWan(hosts: readonly RigHost[], lossPercent: number): Promise<WanConditions> {
  for (const h of hosts) {
    const netem = ['delay', `${h.delayMs}ms`, 'loss', `${lossPercent}%`];
    try {
      await run('tc', ['-n', h.netns, 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', ...netem]);
    } catch (err) {
      const said = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
      return { netem: false, reason: `tc qdisc … netem refused on ${h.name}: ${said}` };
    }
  }
  return { netem: true, lossPercent };
}

function ipIn(netns: string, ...args: string[]): Promise<unknown> {
  return run('ip', ['-n', netns, ...args]);
}

/** `tc -s qdisc show dev eth0` in a host's namespace: the qdisc and its counters. */
export async function qdiscOf(host: RigHost): Promise<string> {
  return (await run('tc', ['-n', host.netns, '-s', 'qdisc', 'show', 'dev', 'eth0'])).stdout;
}

/** Bytes a host's eth0 has received and sent (`ip -s link`): traffic that crossed the bridge. */
export async function linkBytes(host: RigHost): Promise<{ rx: number; tx: number }> {
  const { stdout } = await run('ip', ['-n', host.netns, '-j', '-s', 'link', 'show', 'eth0']);
  const [link] = JSON.parse(stdout) as { stats64: Record<'rx' | 'tx', { bytes: number }> }[];
  if (!link) throw new Error(`no eth0 in ${host.netns}`);
  return { rx: link.stats64.rx.bytes, tx: link.stats64.tx.bytes };
}

/** Node script: the milliseconds a TCP connect to argv[1]:argv[2] takes (SYN to SYN-ACK). */
const CONNECT_TIME = `const net = require('node:net');
const started = process.hrtime.bigint();
const socket = net.connect(Number(process.argv[2]), process.argv[1]);
socket.on('connect', () => { console.log(Number(process.hrtime.bigint() - started) / 1e6); socket.destroy(); });
socket.on('error', (err) => { console.error(err.message); process.exit(1); });`;

/** One TCP handshake's round trip, in ms, from inside `from` to `address:port`. */
export async function connectRoundTripMs(
  from: RigHost,
  address: string,
  port: number,
): Promise<number> {
  const argv = ['netns', 'exec', from.netns, process.execPath, '-e', CONNECT_TIME];
  const { stdout } = await run('ip', [...argv, address, String(port)]);
  return Number(stdout.trim());
}
