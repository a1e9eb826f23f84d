import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../services/sync/test/federation-harness.js';
import { hostRigUnavailable, removeStaleRigs } from './host-rig.js';

const run = promisify(execFile);
const HOST_RIG = fileURLToPath(new URL('./host-rig.ts', import.meta.url));

const unavailable = await hostRigUnavailable();
if (unavailable !== undefined) console.warn(`host rig tests skipped: ${unavailable}`);

/** Names of the network namespaces on this machine. */
async function namespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((line) => line.split(' ')[0] ?? '');
}

/** Whether `pid` runs: a killed process stays a zombie (state Z) until its parent reaps it. */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/**
 * A process that makes a two-host rig, prints its pid once made and then, with `exit`,
 * exits without removing it, or else waits to be killed.
 */
function rigProcess(exit: boolean) {
  const script = `const { createHostRig } = await import(${JSON.stringify(HOST_RIG)});
await createHostRig([{ name: 'left', delayMs: 5 }, { name: 'right', delayMs: 5 }]);
console.log(process.pid);
${exit ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const made = new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
    child.once('exit', (code) => reject(new Error(`rig process exited ${code} first`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, made, exited };
}

describe.skipIf(unavailable !== undefined)('the host rig cleans up after itself', () => {
  it('removes its namespaces when its process exits', async () => {
    const rig = rigProcess(true);
    const pid = await rig.made;
    await rig.exited;
    expect((await namespaces()).filter((n) => n.endsWith(`-${pid}`))).toEqual([]);
  });

  it('removes the namespaces of a killed run, and what still runs in them', async () => {
    const rig = rigProcess(false);
    const pid = await rig.made;
    rig.child.kill('SIGKILL');
    await rig.exited;
    const left = (await namespaces()).filter((n) => n.endsWith(`-${pid}`));
    const inside = (await run('ip', ['netns', 'pids', `vt-wan-${pid}`])).stdout
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect(left.sort()).toEqual([`vt-left-${pid}`, `vt-right-${pid}`, `vt-wan-${pid}`]);
    const stale = await removeStaleRigs();
    expect(stale.sort()).toEqual(left);
    expect((await namespaces()).filter((n) => n.endsWith(`-${pid}`))).toEqual([]);
    // The WAN emulator, when the rig needed it, was left running by the killed run: ended.
    for (const p of inside) await eventually(async () => ((await running(p)) ? undefined : true));
  });

  it('keeps the namespaces of a run whose process lives', async () => {
    const mine = `vt-live-${process.pid}`;
    await run('ip', ['netns', 'add', mine]);
    try {
      expect(await removeStaleRigs()).not.toContain(mine);
      expect(await namespaces()).toContain(mine);
    } finally {
      await run('ip', ['netns', 'del', mine]);
    }
  });
});
