import { HealthCheckResponse_ServingStatus as ServingStatus } from '@vitrine/proto/health';
import type { HealthStatus } from './health-status.js';
import type { Logger } from './logger.js';

/**
 * One thing a service needs before it can take calls (its database answers, its trust
 * snapshot is held, its chunk store is writable). `check` resolves when it holds and
 * throws, saying what is wrong, when it does not.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** How readiness is watched: the checks, how often, and how long one check may take. */
export interface ReadinessOptions {
  readonly checks: readonly ReadinessCheck[];
  /** Time between two rounds of checks; 5 s unless given. */
  readonly intervalMs?: number;
  /** A check that has not answered within this long fails (a database that hangs); 5 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_INTERVAL_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 5_000;

/** A running readiness watch: its latest verdict, a way to check at once, and stop. */
export interface Readiness {
  /** The failed checks of the latest round, by name, with why; empty when ready. */
  readonly failures: ReadonlyMap<string, string>;
  /** Runs every check now and sets the services' status; true when all held. */
  checkNow(): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Keeps `services` NOT_SERVING in `health` until every check holds, then SERVING, and
 * NOT_SERVING again whenever one fails — checked every `intervalMs`, each round after the
 * previous one ended. The server as a whole (health service "") is left as it is: that is
 * liveness, which a failed dependency does not change. Each change is logged once, naming
 * the checks that failed and why.
 */
export function watchReadiness(
  health: HealthStatus,
  services: readonly string[],
  options: ReadinessOptions,
  logger: Logger,
): Readiness {
  const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let failures = new Map<string, string>();
  let ready: boolean | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let round: Promise<boolean> | undefined;

  const runOne = async (check: ReadinessCheck): Promise<string | undefined> => {
    let timedOut: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check.check(),
        new Promise<never>((_, reject) => {
          timedOut = setTimeout(
            () => reject(new Error(`no answer within ${timeout / 1000} s`)),
            timeout,
          );
        }),
      ]);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timedOut);
    }
  };

  const runRound = async (): Promise<boolean> => {
    const results = await Promise.all(options.checks.map(runOne));
    const next = new Map<string, string>();
    results.forEach((reason, i) => {
      const check = options.checks[i];
      if (reason !== undefined && check) next.set(check.name, reason);
    });
    failures = next;
    const now = next.size === 0;
    if (stopped) return now;
    for (const service of services) {
      health.set(service, now ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    }
    if (now !== ready) {
      if (now) logger.info({ services }, 'ready: serving');
      else logger.warn({ services, failed: Object.fromEntries(next) }, 'not ready: not serving');
    }
    ready = now;
    return now;
  };

  const checkNow = (): Promise<boolean> => {
    round ??= runRound().finally(() => {
      round = undefined;
    });
    return round;
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void checkNow().finally(schedule);
    }, interval);
    timer.unref();
  };

  for (const service of services) health.set(service, ServingStatus.NOT_SERVING);
  void checkNow().finally(schedule);
  return {
    get failures() {
      return failures;
    },
    checkNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round?.catch(() => undefined);
    },
  };
}
