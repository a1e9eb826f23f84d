import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { applyWanConditions, type WanConditions, type WanLink } from './wan-conditions.js';

const run = promisify(execFile);

/** Every namespace of a rig is named `vt-<host>-<pid of the process that made it>`. */
const NAME = /^vt-([a-z]+)-(\d+)\b/;

/** Addresses come from 198.18.0.0/15 (RFC 2544 §C.2.2), reserved for benchmarking. */
const NETWORK = '198.18';

/** One host to make: its name and the one-way delay its link adds to what it sends. */
export interface HostSpec {
  readonly name: string;
  readonly delayMs: number;
}

/** One host of a running rig. */
export interface RigHost extends WanLink {
  /** Its network namespace: run a command there with `ip netns exec NETNS …`. */
  readonly netns: string;
  /** Its address, in 198.18.0.0/15: 198.18.N.10 on its own network 198.18.N.0/24. */
  readonly address: string;
  /** One-way delay the WAN adds to every packet it sends (0 when there are no WAN conditions). */
  readonly delayMs: number;
}

/** Hosts in network namespaces, each on its own network, joined by a router over a bridge. */
export interface HostRig {
  readonly hosts: ReadonlyMap<string, RigHost>;
  /** The namespace that holds the bridge and routes between the hosts' networks. */
  readonly router: string;
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

/** deleteNamespace for an exit handler, which cannot wait. */
function deleteNamespaceNow(netns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
    for (const pid of pids.split('\n').filter(Boolean)) killQuietly(Number(pid));
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  } catch {
    // not made, or deleted already
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Whether this process has a rig: the namespaces' names are unique per process. */
let rigOfThisProcess = false;

/**
 * Makes one network namespace per host and one for the router (`vt-wan-<pid>`), which holds
 * the bridge `br0`: a veth pair joins each host's `eth0` to a bridge port. Host N (from 1,
 * in order) is 198.18.N.10/24 on its own network, the router 198.18.N.1 its gateway, so
 * every packet between two hosts crosses the bridge twice and the router once. The WAN
 * conditions (applyWanConditions) delay what each host sends by its `delayMs` and drop
 * `lossPercent` of it: a round trip between two hosts takes the sum of their delays.
 * Stale rigs of killed runs are removed first; the rig removes itself when this process
 * exits.
 */
export async function createHostRig(specs: readonly HostSpec[], lossPercent = 1): Promise<HostRig> {
  if (rigOfThisProcess) throw new Error('one host rig per process: its names carry the pid');
  rigOfThisProcess = true;
  await removeStaleRigs();
  const router = `vt-wan-${process.pid}`;
  const namespaces = [router, ...specs.map((s) => `vt-${s.name}-${process.pid}`)];
  const removeAtExit = () => {
    for (const netns of namespaces) deleteNamespaceNow(netns);
  };
  process.once('exit', removeAtExit);
  const destroy = async () => {
    process.off('exit', removeAtExit);
    for (const netns of namespaces) await deleteNamespace(netns);
    rigOfThisProcess = false;
  };
  try {
    await addRouter(router);
    const made = await Promise.all(specs.map((spec, i) => addHost(router, spec, i + 1)));
    const wan = await applyWanConditions(router, made, lossPercent);
    const hosts = new Map(
      made.map((h) => [h.name, wan.by === 'none' ? { ...h, delayMs: 0 } : h] as const),
    );
    return {
      hosts,
      router,
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

/** The router: forwards between the hosts' networks, and sends no ICMP redirects. */
async function addRouter(router: string): Promise<void> {
  await run('ip', ['netns', 'add', router]);
  await sysctl(router, [
    'net.ipv4.ip_forward=1',
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
    'net.ipv4.conf.all.send_redirects=0',
    'net.ipv4.conf.default.send_redirects=0',
  ]);
  await ipIn(router, 'link', 'set', 'lo', 'up');
  await ipIn(router, 'link', 'add', 'br0', 'type', 'bridge');
  await ipIn(router, 'link', 'set', 'br0', 'up');
}

async function addHost(router: string, spec: HostSpec, n: number): Promise<RigHost> {
  const netns = `vt-${spec.name}-${process.pid}`;
  const port = `port-${spec.name}`.slice(0, 15);
  await run('ip', ['netns', 'add', netns]);
  await ipIn(router, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  await ipIn(router, 'link', 'set', port, 'master', 'br0', 'up');
  await ipIn(router, 'addr', 'add', `${NETWORK}.${n}.1/24`, 'dev', 'br0');
  await ipIn(netns, 'addr', 'add', `${NETWORK}.${n}.10/24`, 'dev', 'eth0');
  await ipIn(netns, 'link', 'set', 'eth0', 'up');
  await ipIn(netns, 'link', 'set', 'lo', 'up');
  await ipIn(netns, 'route', 'add', 'default', 'via', `${NETWORK}.${n}.1`);
  return { name: spec.name, netns, address: `${NETWORK}.${n}.10`, delayMs: spec.delayMs };
}

function ipIn(netns: string, ...args: string[]): Promise<unknown> {
  return run('ip', ['-n', netns, ...args]);
}

function sysctl(netns: string, settings: string[]): Promise<unknown> {
  return run('ip', ['netns', 'exec', netns, 'sysctl', '-qw', ...settings]);
}
