import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { devDatabaseUrls, prepareDevPGlite } from './dev-database.js';
import {
  DEFAULT_BASE_PORT,
  DEV_CENTERS,
  devAccessConfig,
  devCenterConfig,
  devFederationFile,
  devPorts,
  prepareDevAccess,
  prepareDevTrust,
} from './dev-federation.js';
import { vitrineHome } from './endpoints.js';
import { DEV_SERVICE_NODE_FLAGS } from './node-flags.js';
import { writeJsonLine, writeLines } from './output.js';
import { runCommand } from './run-command.js';
import { describeExit, ServiceProcess } from './service-process.js';
import { shutdownSignal } from './shutdown-signal.js';

interface DevOptions {
  data?: string;
  basePort: string;
  json?: boolean;
}

/**
 * `vitrine dev`: the whole federation on one machine — the access service and three
 * centers (asia/APAC, europe/EU, us/US), each center's registry and sync in one process,
 * embedded storage under the data folder, keys created on first start and reused.
 */
export const devCommand: CommandGroup = (program, io) => {
  program
    .command('dev')
    .description('run the access service and three centers (asia, europe, us) locally')
    .option('--data <dir>', 'data folder (default: $VITRINE_HOME or ./.vitrine)')
    .option(
      '--base-port <n>',
      'access listens on N, center i on N+10i (registry) and N+10i+1 (sync)',
      String(DEFAULT_BASE_PORT),
    )
    .option('--json', 'print one JSON line {"ready":true,…} with every endpoint once serving')
    .addHelpText(
      'after',
      `
Data, keys and logs stay in the data folder, so a restart keeps everything. With
VITRINE_DATABASE_URL=postgres://… the centers keep their state on that PostgreSQL database
instead, each in its own schema (vitrine_<center>). Other commands find
the centers through <data>/federation.json. Ctrl-C (SIGINT) or SIGTERM stops every service.
Example:
  $ vitrine dev --data /tmp/vitrine --base-port 9400`,
    )
    .action((options: DevOptions) => runCommand(io, options.json === true, () => dev(io, options)));
};

async function dev(io: CliIo, options: DevOptions): Promise<void> {
  const base = Number(options.basePort);
  if (!Number.isInteger(base) || base < 1024 || base > 65_000) {
    throw usageError('--base-port must be a whole number from 1024 to 65000');
  }
  // Listening before anything starts: a stop sent while services start, or right after the
  // ready line, stops every service they started instead of leaving them running.
  const stopRequested = shutdownSignal();
  const home = vitrineHome({ data: options.data }, io.env, io.cwd);
  await mkdir(join(home, 'config'), { recursive: true });
  await mkdir(join(home, 'logs'), { recursive: true });
  await chmod(home, 0o700);
  const accessKeys = await prepareDevAccess(home, base);
  const trust = await prepareDevTrust(home, base, accessKeys);
  const databases = await devDatabaseUrls(
    io.env,
    DEV_CENTERS.map((c) => c.id),
  );
  await prepareDevPGlite(
    home,
    DEV_CENTERS.map((c) => c.id),
    databases,
  );
  const env = { ...io.env, VITRINE_LOG_LEVEL: io.env.VITRINE_LOG_LEVEL ?? 'info' };
  const ports = devPorts(base);
  const configFile = async (name: string, config: unknown) => {
    const file = join(home, 'config', `${name}.json`);
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
    return file;
  };
  const logFile = (name: string) => join(home, 'logs', `${name}.log`);
  // Every process gets its own Prometheus port: on one port, all but the first would lose it.
  const withMetricsPort = (port: number | undefined) => ({
    ...env,
    OTEL_EXPORTER_PROMETHEUS_PORT: String(port ?? 0),
  });
  const accessConfig = devAccessConfig(home, base, accessKeys, trust.witnesses);
  await configFile('access', accessConfig);
  const starting = DEV_CENTERS.map(async (c, i) =>
    ServiceProcess.start(
      c.id,
      'center',
      await configFile(
        c.id,
        devCenterConfig(home, i, base, trust, accessKeys, databases?.get(c.id)),
      ),
      logFile(c.id),
      withMetricsPort(ports.centers[i]?.metrics),
      DEV_SERVICE_NODE_FLAGS,
    ),
  );
  // The access service runs in this process while the centers start in theirs: it holds
  // one process's worth of memory less than a child of its own would (see
  // docs/embedded-footprint.md). It logs to its file, as the centers do.
  const accessStarting = startDevAccess(
    accessConfig,
    withMetricsPort(ports.accessMetrics),
    logFile('access'),
  );
  const [accessResult, ...results] = await Promise.allSettled([accessStarting, ...starting]);
  const centers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const access = accessResult.status === 'fulfilled' ? accessResult.value : undefined;
  const failed = [accessResult, ...results].find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all([...centers.map((s) => s.stop()), access?.stop()]);
    throw withPortHint(failed.reason, base);
  }
  const metrics = Object.fromEntries([
    ...(access?.metrics ? [['access', access.metrics]] : []),
    ...centers.flatMap((s) => (s.ready.metrics ? [[s.name, s.ready.metrics]] : [])),
  ]);
  const federation = devFederationFile(
    { url: access?.url ?? '', trustKey: accessKeys.trustKey },
    centers.map((c, i) => ({
      id: DEV_CENTERS[i]?.id ?? c.name,
      jurisdiction: DEV_CENTERS[i]?.jurisdiction ?? '',
      registry: c.ready.registry ?? '',
      sync: c.ready.sync ?? '',
      publicKey: c.ready.publicKey ?? '',
    })),
  );
  await writeFile(join(home, 'federation.json'), `${JSON.stringify(federation, null, 2)}\n`);
  printReady(io, options.json === true, home, federation, metrics);
  try {
    await superviseUntilStopped(centers, stopRequested);
  } finally {
    await access?.stop();
  }
  if (options.json !== true) writeLines(io.stdout, ['vitrine federation stopped']);
}

function printReady(
  io: CliIo,
  json: boolean,
  home: string,
  f: ReturnType<typeof devFederationFile>,
  metrics: Record<string, string>,
) {
  if (json) {
    const scrape = Object.keys(metrics).length > 0 ? { metrics } : {};
    writeJsonLine(io.stdout, {
      ready: true,
      home,
      access: f.access.url,
      centers: f.centers,
      ...scrape,
    });
    return;
  }
  writeLines(io.stdout, readyLines(home, io.cwd, f, metrics));
}

/**
 * Starts the access service in this process, with the Node settings `vitrine dev` gives
 * its services (DEV_SERVICE_NODE_FLAGS, set before PGlite's WebAssembly is compiled), its
 * log appended to `logFile`. Its packages load here, so `vitrine dev --help` loads none.
 */
async function startDevAccess(
  config: ReturnType<typeof devAccessConfig>,
  env: Readonly<Record<string, string | undefined>>,
  logFile: string,
) {
  for (const flag of DEV_SERVICE_NODE_FLAGS) setFlagsFromString(flag);
  const [{ startAccess }, { createLogger, metricsAddress, startTelemetry }] = await Promise.all([
    import('@vitrine/access'),
    import('@vitrine/rpc'),
  ]);
  // Telemetry of this process is the access service's: the centers run their own.
  const telemetry = await startTelemetry('vitrine-access', { env: { ...env } });
  try {
    const access = await startAccess(config, {
      logger: createLogger('access', { ...env }, logFile),
    });
    return {
      url: access.url,
      metrics: metricsAddress({ ...env }),
      async stop() {
        await access.stop();
        await telemetry.shutdown();
      },
    };
  } catch (err) {
    await telemetry.shutdown();
    throw new CliError('UNAVAILABLE', `access failed to start: ${String(err)}; see ${logFile}`, {
      cause: err,
    });
  }
}

/**
 * A start-up failure, with a way out when a port was taken (most often by a federation
 * already running): the ports in use and `--base-port`.
 */
export function withPortHint(err: unknown, base: number): unknown {
  if (!(err instanceof CliError) || !err.message.includes('EADDRINUSE')) return err;
  const ports = `${base}-${base + 2} and ${base + 10}-${base + 10 * DEV_CENTERS.length + 2}`;
  return new CliError(
    err.code,
    `${err.message} — vitrine dev listens on ${ports}; stop what holds the port (another \`vitrine dev\`?) or pass --base-port N, e.g. --base-port ${base + 1000}`,
    { cause: err },
  );
}

/**
 * The ready text of `vitrine dev`: every endpoint, and a command to try next. When the data
 * folder is not the default (`./.vitrine` where it was started), the command carries
 * `--data`, since other commands, run elsewhere, would not find the federation file.
 */
export function readyLines(
  home: string,
  cwd: string,
  f: Pick<ReturnType<typeof devFederationFile>, 'access' | 'centers'>,
  metrics: Readonly<Record<string, string>> = {},
): string[] {
  const data = home === resolve(cwd, '.vitrine') ? '' : ` --data ${home}`;
  const scrape = (name: string) => (metrics[name] ? `   metrics ${metrics[name]}` : '');
  return [
    `vitrine federation running (data: ${home})`,
    `  access   ${f.access.url}${scrape('access')}`,
    ...f.centers.map(
      (c) =>
        `  ${c.id.padEnd(8)} ${c.jurisdiction.padEnd(5)} registry ${c.registry}   sync ${c.sync}${scrape(c.id)}`,
    ),
    `logs: ${join(home, 'logs')}   try: vitrine artifact ls --center europe${data}   stop: Ctrl-C`,
  ];
}

/** Waits for a stop (SIGINT/SIGTERM) or a center's unexpected exit, then stops every center. */
async function superviseUntilStopped(services: ServiceProcess[], stopRequested: Promise<unknown>) {
  const crash = Promise.race(services.map((s) => s.exited.then((exit) => ({ service: s, exit }))));
  const outcome = await Promise.race([stopRequested.then(() => undefined), crash]);
  await Promise.all(services.map((s) => s.stop()));
  if (outcome) {
    const { service, exit } = outcome;
    throw new CliError(
      'UNAVAILABLE',
      `${service.name} stopped unexpectedly (${describeExit(exit)}); see ${service.logFile}`,
    );
  }
}
