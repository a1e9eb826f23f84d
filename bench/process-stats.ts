/**
 * Figures of a running process from /proc (Linux): its peak resident set since start or
 * since the last reset, so each benchmark reports its own peak; and the CPU time it has
 * used, which on a shared, noisy machine says more about its cost than wall time does.
 */
import { readFile, writeFile } from 'node:fs/promises';

/** Peak resident memory (VmHWM) of a process, in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  return statusMiB(pid, 'VmHWM');
}

/** Resident memory (VmRSS) of a process now, in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  return statusMiB(pid, 'VmRSS');
}

async function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/**
 * Resets a process's peak resident memory to its current one (`5` to clear_refs, Linux 4.0
 * and later), so the next {@link peakRssMiB} covers only what ran in between.
 */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used since it started, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
