import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs a command to completion (for baselines such as sha256sum or rsync); its stdout. */
export async function run(command: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(command, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Milliseconds of each of `runs` sequential runs of `body`. */
export async function time(runs: number, body: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await body();
    out.push(performance.now() - start);
  }
  return out;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The `p`-th percentile (0–100, nearest rank) of a non-empty list: tails beside the median. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(rank, 1)) - 1] ?? 0;
}

/** Polls `check` every `intervalMs` until it returns true; the milliseconds that took. */
export async function waitFor(check: () => Promise<boolean>, intervalMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) await new Promise((r) => setTimeout(r, intervalMs));
  return performance.now() - start;
}
