import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { devDatabaseUrls, prepareDevPGlite } from './dev-database.js';
import {
  DEV_CENTERS,
  devAccessConfig,
  devCenterConfig,
  devFederationFile,
  devPorts,
  prepareDevAccess,
  prepareDevTrust,
} from './dev-federation.js';
import { vitrineHome } from './endpoints.js';
import { writeJsonLine, writeLines } from './output.js';
import { runCommand } from './run-command.js';
import { DEV_SERVICE_NODE_FLAGS, describeExit, ServiceProcess } from './service-process.js';
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
      '7400',
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
  const start = async (name: string, service: string, config: unknown, metricsPort: number) => {
    const file = join(home, 'config', `${name}.json`);
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
    const log = join(home, 'logs', `${name}.log`);
    // Every process gets its own Prometheus port: on one port, all but the first would lose it.
    const own = { ...env, OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) };
    return ServiceProcess.start(name, service, file, log, own, DEV_SERVICE_NODE_FLAGS);
  };
  const starting = [
    start('access', 'access', devAccessConfig(home, base, accessKeys), ports.accessMetrics),
    ...DEV_CENTERS.map((c, i) =>
      start(
        c.id,
        'center',
        devCenterConfig(home, i, base, trust, accessKeys, databases?.get(c.id)),
        ports.centers[i]?.metrics ?? 0,
      ),
    ),
  ];
  const results = await Promise.allSettled(starting);
  const services = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(services.map((s) => s.stop()));
    throw withPortHint(failed.reason, base);
  }
  const [access, ...centers] = services;
  const metrics = Object.fromEntries(
    services.flatMap((s) => (s.ready.metrics ? [[s.name, s.ready.metrics]] : [])),
  );
  const federation = devFederationFile(
    { url: access?.ready.access ?? '', trustKey: accessKeys.trustKey },
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
  await superviseUntilStopped(io, options.json === true, services, stopRequested);
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

/** Waits for a stop (SIGINT/SIGTERM) or a service's unexpected exit, then stops every service. */
async function superviseUntilStopped(
  io: CliIo,
  json: boolean,
  services: ServiceProcess[],
  stopRequested: Promise<unknown>,
) {
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
  if (!json) writeLines(io.stdout, ['vitrine federation stopped']);
}
