/**
 * Live finding watch: single finding updates at the origin, timed from commit until a
 * WatchFindings stream at another center delivers each, beside the plain propagation figure
 * of the same updates (until that center's GetFinding shows it, polled every millisecond).
 */
import type { CenterId } from './bench-federation.js';
import { median, percentile, waitFor } from './measure.js';
import { type BenchContext, type BenchTable, ORIGIN, times } from './replication-bench.js';
import { holds, updatedFindings } from './replication-findings.js';

/** Where the watch runs: another center than the origin. */
const WATCHER: CenterId = 'asia';

/** When each title arrived on the watch, and who waits for one still to come. */
class Arrivals {
  readonly #seen = new Map<string, number>();
  readonly #waiting = new Map<string, (at: number) => void>();

  arrived(title: string, at: number): void {
    const wake = this.#waiting.get(title);
    if (!wake) this.#seen.set(title, at);
    this.#waiting.delete(title);
    wake?.(at);
  }

  when(title: string): Promise<number> {
    const at = this.#seen.get(title);
    this.#seen.delete(title);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.#waiting.set(title, resolve));
  }
}

/** `updates` single finding updates at the origin, each until watched and shown at asia. */
export async function watchLatency(ctx: BenchContext): Promise<BenchTable> {
  const ids = await updatedFindings(ctx);
  const origin = ctx.federation.center(ORIGIN).registry;
  const watcher = ctx.federation.center(WATCHER).registry;
  const stop = new AbortController();
  const arrivals = new Arrivals();
  const watching = (async () => {
    try {
      for await (const message of watcher.watchFindings({}, { signal: stop.signal })) {
        const title = message.change?.finding?.title;
        if (title !== undefined) arrivals.arrived(title, performance.now());
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    }
  })();
  const call: number[] = [];
  const shown: number[] = [];
  const delivered: number[] = [];
  // One update first, untimed: the watch is live once it has delivered it.
  for (let i = -1; i < ctx.sizes.updates; i++) {
    const id = ids[(i + ids.length) % ids.length] ?? '';
    const title = `watch bench ${i} ${performance.now()}`;
    const start = performance.now();
    await origin.updateFinding({ id, title });
    const committed = performance.now();
    const visible = waitFor(() => holds(ctx, WATCHER, id, title), 1);
    const arrived = await arrivals.when(title);
    await visible;
    const done = performance.now();
    if (i < 0) continue;
    call.push(committed - start);
    delivered.push(arrived - committed);
    shown.push(done - committed);
  }
  stop.abort();
  await watching;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const row = (name: string, values: number[]) => [
    name,
    ms(median(values)),
    ms(percentile(values, 99)),
    times(median(values) / median(shown)),
  ];
  return {
    title: `${ctx.sizes.updates} single finding updates at ${ORIGIN}, watched at ${WATCHER}: from commit until delivered`,
    headers: ['', 'p50', 'p99', 'p50 vs propagation'],
    rows: [
      row(`the update call at ${ORIGIN}`, call),
      row(`propagation: GetFinding at ${WATCHER} shows it (baseline)`, shown),
      row(`delivered on a WatchFindings stream at ${WATCHER}`, delivered),
    ],
  };
}
