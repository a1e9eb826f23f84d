import cliProgress from 'cli-progress';
import type { CliIo } from './cli-io.js';
import { formatBytes, formatDuration, formatRate } from './units.js';

/** Progress of one long transfer (hashing, pushing or pulling an artifact). */
export interface TransferProgress {
  /** Starts (or restarts, for the next phase) a bar over `total` bytes. */
  start(phase: string, total: number): void;
  /** Records `bytes` more bytes done. */
  advance(bytes: number): void;
  /** Draws the final state and leaves the terminal line alone. */
  stop(): void;
}

/** What one redraw of the bar shows. */
export interface ProgressSnapshot {
  readonly phase: string;
  readonly value: number;
  readonly total: number;
  readonly elapsedMs: number;
  readonly etaSeconds: number;
}

const BAR_WIDTH = 30;

/**
 * One line of the progress bar: phase, bar, percentage, bytes, MB/s and time left, e.g.
 * `pushing [=========---------]  45% | 120 MiB / 266 MiB | 35.2 MB/s | ETA 0:04`.
 */
export function formatProgressLine(snapshot: ProgressSnapshot): string {
  const { phase, value, total, elapsedMs, etaSeconds } = snapshot;
  const fraction = total > 0 ? Math.min(1, value / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${'='.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const eta = value >= total ? '0:00' : formatDuration(etaSeconds);
  return [
    `${phase.padEnd(7)} [${bar}] ${percent}`,
    `${formatBytes(value)} / ${formatBytes(total)}`,
    formatRate(value, elapsedMs),
    `ETA ${eta}`,
  ].join(' | ');
}

/**
 * A progress bar on stderr, drawn only when stderr is a terminal and output is not
 * `--json`; otherwise a no-op, so pipes and logs never see control characters.
 */
export function createTransferProgress(io: CliIo, json: boolean): TransferProgress {
  if (!io.isTTY || json) return { start() {}, advance() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  let value = 0;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    start(phase, total) {
      stop();
      value = 0;
      bar = new cliProgress.SingleBar({
        stream: io.stderr,
        hideCursor: true,
        clearOnComplete: false,
        format: (_options, params, payload: { phase: string }) =>
          formatProgressLine({
            phase: payload.phase,
            value: params.value,
            total: params.total,
            elapsedMs: Date.now() - params.startTime,
            etaSeconds: params.eta,
          }),
      });
      bar.start(total, 0, { phase });
    },
    advance(bytes) {
      value += bytes;
      bar?.update(value);
    },
    stop,
  };
}
