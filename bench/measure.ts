import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs a command to completion (for baselines such as sha256sum or rsync). */
export async function run(command: string, args: string[]): Promise<void> {
  await execFileAsync(command, args, { maxBuffer: 16 * 1024 * 1024 });
}

/** Milliseconds of each of `runs` sequential runs of `body`. */
export async function time(runs: number, body: () => Promise<void>): Promise<number[]> {
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
