const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * A byte count for people: `512 B`, `1.5 MiB`, `3.25 GiB` (powers of 1024, three
 * significant digits at most), so sizes in tables line up and read at a glance.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BINARY_UNITS[unit]}`;
}

/** A transfer rate in MB/s (decimal megabytes, as network speeds are quoted). */
export function formatRate(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return '-- MB/s';
  const rate = bytes / 1e6 / (elapsedMs / 1000);
  return `${rate.toFixed(1)} MB/s`;
}

/** A remaining time as `m:ss` or `h:mm:ss`; `--:--` when it cannot be estimated yet. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
