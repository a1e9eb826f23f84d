/**
 * Memory figures of a running process from /proc (Linux): its peak resident set since
 * start or since the last reset, so each benchmark reports its own peak.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Peak resident memory (VmHWM) of a process, in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/**
 * Resets a process's peak resident memory to its current one (`5` to clear_refs, Linux 4.0
 * and later), so the next {@link peakRssMiB} covers only what ran in between.
 */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}
