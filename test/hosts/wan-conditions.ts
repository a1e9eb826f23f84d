import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The userspace stand-in for netem, run in the router's namespace. */
const EMULATOR = fileURLToPath(new URL('./wan-emulator.py', import.meta.url));

/** The TUN device the emulator opens in the router's namespace. */
export const EMULATOR_DEVICE = 'wan0';

/** A host's link as WAN conditions see it: its namespace, address and one-way delay. */
export interface WanLink {
  readonly name: string;
  readonly netns: string;
  readonly address: string;
  readonly delayMs: number;
}

/**
 * How the rig's WAN delay and loss are made: `netem` on each host's eth0 (tc netem, the
 * kernel's sch_netem); `emulator`, where the kernel has no netem, by wan-emulator.py on the
 * router, which every packet between two hosts passes once; `none` when neither works.
 */
export type WanConditions =
  | { readonly by: 'netem'; readonly lossPercent: number }
  | {
      readonly by: 'emulator';
      readonly lossPercent: number;
      readonly noNetem: string;
      /** Packets the emulator has dropped so far. */
      dropped(): number;
    }
  | { readonly by: 'none'; readonly reason: string };

/** Puts the delays and loss on the links: netem if the kernel has it, else the emulator. */
export async function applyWanConditions(
  router: string,
  links: readonly WanLink[],
  lossPercent: number,
): Promise<WanConditions> {
  const noNetem = await applyNetem(links, lossPercent);
  if (noNetem === undefined) return { by: 'netem', lossPercent };
  const emulator = await startEmulator(router, links, lossPercent);
  if (typeof emulator === 'string') return { by: 'none', reason: `${noNetem}; ${emulator}` };
  return { by: 'emulator', lossPercent, noNetem, dropped: emulator };
}

/** `tc netem` on each host's eth0, or why the kernel refused it. */
async function applyNetem(links: readonly WanLink[], lossPercent: number) {
  for (const link of links) {
    const netem = ['netem', 'delay', `${link.delayMs}ms`, 'loss', `${lossPercent}%`];
    try {
      await run('tc', ['-n', link.netns, 'qdisc', 'add', 'dev', 'eth0', 'root', ...netem]);
    } catch (err) {
      for (const l of links) await run('tc', qdiscDelete(l.netns)).catch(() => undefined);
      return `tc netem refused on ${link.name}: ${stderrOf(err)}`;
    }
  }
  return undefined;
}

function qdiscDelete(netns: string): string[] {
  return ['-n', netns, 'qdisc', 'del', 'dev', 'eth0', 'root'];
}

/**
 * Starts wan-emulator.py in the router's namespace and routes every packet the router
 * forwards through it once: packets from the hosts go to the TUN device (table 100); what
 * comes back out of it is routed by the main table to the destination host. Resolves
 * with a reader of its count of dropped packets, or why it did not start.
 */
async function startEmulator(
  router: string,
  links: readonly WanLink[],
  lossPercent: number,
): Promise<string | (() => number)> {
  const delays = links.map((l) => `${l.address}=${l.delayMs}`);
  const argv = ['netns', 'exec', router, 'python3', EMULATOR, EMULATOR_DEVICE];
  const child = spawn('ip', [...argv, String(lossPercent), ...delays], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-2000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let dropped = 0;
  const ready = await Promise.race([
    new Promise<true>((resolve) =>
      lines.on('line', (line) => (line === 'dropped' ? dropped++ : resolve(true))),
    ),
    new Promise<false>((resolve) => child.once('exit', () => resolve(false))),
  ]);
  if (!ready) return `the WAN emulator (python3) did not start: ${stderr.trim()}`;
  const ip = (...args: string[]) => run('ip', ['-n', router, ...args]);
  await ip('link', 'set', EMULATOR_DEVICE, 'up');
  await ip('route', 'add', 'default', 'dev', EMULATOR_DEVICE, 'table', '100');
  await ip('rule', 'add', 'iif', EMULATOR_DEVICE, 'lookup', 'main', 'pref', '100');
  await ip('rule', 'add', 'lookup', '100', 'pref', '200');
  return () => dropped;
}

/** What a failed command printed on stderr, else its error message. */
export function stderrOf(err: unknown): string {
  return (err as { stderr?: string }).stderr?.trim() || (err as Error).message.trim();
}
