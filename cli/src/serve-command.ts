import { readFile } from 'node:fs/promises';
import { isVitrineError } from '@vitrine/errors';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { writeJsonLine, writeLines } from './output.js';
import { requireReadable } from './readable-file.js';
import { runCommand } from './run-command.js';
import { shutdownSignal } from './shutdown-signal.js';

type Service = 'registry' | 'sync' | 'access' | 'center';

/** What `serve` reports once it accepts calls; `vitrine dev` reads this line. */
export interface ReadyLine {
  ready: true;
  service: Service;
  center?: string;
  registry?: string;
  sync?: string;
  access?: string;
  /** The center's Ed25519 public key (base64), for the federation manifest. */
  publicKey?: string;
  /** The Prometheus endpoint, when OTEL_METRICS_EXPORTER names `prometheus`. */
  metrics?: string;
  /**
   * With a PostgreSQL database, `serve center` runs sync under the center's lease: `active`
   * when this process replicates, `standby` when another one does (it takes over the sync
   * address when that one stops). Absent on embedded storage, where sync is always active.
   */
  syncRole?: 'active' | 'standby';
}

/**
 * `vitrine serve registry|sync|access|center --config FILE`: the production entry points,
 * one service (or one center's registry and sync together) per process. Invalid config is
 * refused at start with a message naming the bad setting. Runs until SIGINT or SIGTERM.
 */
export const serveCommands: CommandGroup = (program, io) => {
  program
    .command('serve')
    .description('run one vitrine service in the foreground until SIGINT/SIGTERM')
    .argument('<service>', 'registry, sync, access, or center (registry and sync of one center)')
    .requiredOption('--config <file>', 'JSON config file for the service')
    .option('--json', 'print one JSON line {"ready":true,…} once serving')
    .addHelpText(
      'after',
      `
Logs go to stderr as JSON lines (level from VITRINE_LOG_LEVEL, default info).
Health (grpc.health.v1 on the service's port): service "" is liveness; the service's
own name (e.g. vitrine.registry.v1.RegistryService) is readiness, NOT_SERVING until its
database answers, its chunk store is writable and its trust snapshot is held.
Metrics: OTEL_METRICS_EXPORTER=prometheus serves them on OTEL_EXPORTER_PROMETHEUS_HOST
(default 127.0.0.1) and OTEL_EXPORTER_PROMETHEUS_PORT (default 9464); see
docs/operations.md.
Example:
  $ vitrine serve registry --config /etc/vitrine/registry-europe.json`,
    )
    .action((service: string, options: { config: string; json?: boolean }) =>
      runCommand(io, options.json === true, () => serve(io, service, options)),
    );
};

async function serve(io: CliIo, service: string, options: { config: string; json?: boolean }) {
  // Each service's packages load when it starts, so a process holds the code of its own
  // service only (and `vitrine --help` none).
  const { metricsAddress, startTelemetry } = await import('@vitrine/rpc');
  let metrics: string | undefined;
  try {
    metrics = metricsAddress(io.env);
  } catch (err) {
    throw new CliError('CONFIG', err instanceof Error ? err.message : String(err));
  }
  // Telemetry starts before the services, so their instruments bind to its meter provider.
  const telemetry = await startTelemetry(`vitrine-${service}`, {
    center: await centerNamed(service, options.config),
  });
  const { ready, stop } = await start(service, options.config).catch(async (err: unknown) => {
    await telemetry.shutdown();
    throw startFailure(err);
  });
  const line: ReadyLine = metrics ? { ...ready, metrics } : ready;
  if (options.json) writeJsonLine(io.stdout, line);
  else {
    const urls = [ready.registry, ready.sync, ready.access].filter((u) => u !== undefined);
    const scrape = metrics ? `; metrics at ${metrics}` : '';
    const standby =
      ready.syncRole === 'standby'
        ? ' — sync standby: another process of this center is active; this one takes over when it stops'
        : '';
    writeLines(io.stdout, [
      `vitrine ${service} serving at ${urls.join(', ')}${scrape}${standby} (Ctrl-C stops)`,
    ]);
  }
  await shutdownSignal();
  await stop();
  await telemetry.shutdown();
}

/**
 * The center a registry or center config names (`center.id`, `registry.center.id`), for
 * the telemetry resource; undefined when there is none or the file cannot be read —
 * starting the service then says what is wrong with it.
 */
async function centerNamed(service: string, path: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(await readFile(path, 'utf8'));
    const id = service === 'center' ? config?.registry?.center?.id : config?.center?.id;
    return service !== 'access' && typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function start(
  service: string,
  path: string,
): Promise<{ ready: ReadyLine; stop: () => Promise<void> }> {
  const { readConfigFile } = await import('@vitrine/config');
  switch (service as Service) {
    case 'registry': {
      const { registryConfigSchema, startRegistry } = await import('@vitrine/registry');
      const config = await readConfigFile(registryConfigSchema, path, 'registry');
      await requireNamedFiles(path, [['keyFile', config.keyFile]]);
      const registry = await startRegistry(config);
      return {
        ready: {
          ready: true,
          service: 'registry',
          center: registry.config.center.id,
          registry: registry.url,
          publicKey: base64(registry.publicKey),
        },
        stop: () => registry.stop(),
      };
    }
    case 'sync':
      throw new CliError(
        'USAGE',
        'the sync service runs beside its registry, sharing its log: use `vitrine serve center`',
      );
    case 'access': {
      const { accessConfigSchema, startAccess } = await import('@vitrine/access');
      const config = await readConfigFile(accessConfigSchema, path, 'access');
      await requireNamedFiles(path, [['trustKeyFile', config.trustKeyFile]]);
      const access = await startAccess(config);
      return {
        ready: { ready: true, service: 'access', access: access.url },
        stop: () => access.stop(),
      };
    }
    case 'center': {
      const [
        { knownLogs, registryConfigSchema, startRegistry },
        { federationOf, startLeasedSync, startSync, syncConfigSchema },
      ] = await Promise.all([import('@vitrine/registry'), import('@vitrine/sync')]);
      const { z } = await import('zod');
      // A center's two services in one process: they share its database and chunk store.
      const centerConfigSchema = z
        .object({ registry: registryConfigSchema, sync: syncConfigSchema })
        .strict();
      const config = await readConfigFile(centerConfigSchema, path, 'center');
      await requireNamedFiles(path, [
        ['registry.keyFile', config.registry.keyFile],
        ['sync.keyFile', config.sync.keyFile],
        ['sync.manifestFile', config.sync.manifestFile],
        ['sync.tls.certFile', config.sync.tls?.certFile],
        ['sync.tls.keyFile', config.sync.tls?.keyFile],
        ['sync.tls.caFile', config.sync.tls?.caFile],
      ]);
      const federation = await federationOf(config.sync).catch((err: unknown) => {
        throw manifestFailure(path, config.sync, err);
      });
      const registry = await startRegistry(config.registry, {
        originKey: federation.originKey,
        knownLogs: knownLogs(
          federation.manifest.federation,
          federation.manifest.centers,
          federation.manifest.access.trustKey,
        ),
        serviceLevels: federation.manifest.serviceLevels,
      });
      const syncOptions = {
        replica: registry.replica,
        chunks: registry.chunks,
        witness: registry.witness,
        checkpoints: registry.checkpoints,
        cosignatures: registry.cosignatures,
        operators: registry.operators,
        federation,
      };
      // On PostgreSQL several processes may serve one center: sync runs in the one holding
      // the center's lease. Embedded PGlite is owned by one process, so sync just runs.
      const databaseUrl = config.registry.databaseUrl;
      const sync = await (databaseUrl === undefined
        ? startSync(config.sync, syncOptions).then((running) => ({
            url: running.url,
            role: () => undefined,
            stop: () => running.stop(),
          }))
        : startLeasedSync(config.sync, { ...syncOptions, lease: { databaseUrl } })
      ).catch(async (err) => {
        await registry.stop();
        throw err;
      });
      const syncRole = sync.role();
      return {
        ready: {
          ready: true,
          service: 'center',
          center: registry.config.center.id,
          registry: registry.url,
          sync: sync.url,
          publicKey: base64(registry.publicKey),
          ...(syncRole === undefined ? {} : { syncRole }),
        },
        stop: async () => {
          await sync.stop();
          await registry.stop();
        },
      };
    }
    default:
      throw new CliError(
        'USAGE',
        `unknown service "${service}": use registry, sync, access or center`,
      );
  }
}

/**
 * Every key, certificate and manifest file a config names explicitly must be there before
 * anything starts: a missing key is a mistake to fix (a new key would be a different
 * center), never a reason to make one. Refused as CONFIG, naming the setting.
 */
async function requireNamedFiles(
  configPath: string,
  files: readonly (readonly [string, string | undefined])[],
): Promise<void> {
  for (const [setting, file] of files) {
    if (file === undefined) continue;
    await requireReadable(
      `${configPath}: ${setting}`,
      file,
      'correct the path, or create the file on this host (`vitrine center init`, `vitrine access init`)',
    );
  }
}

/** A manifest that does not verify or does not list this center is a config error, by name. */
function manifestFailure(
  configPath: string,
  sync: { manifestFile: string; federationRootKey: string },
  err: unknown,
): unknown {
  if (err instanceof SyntaxError) {
    return new CliError(
      'CONFIG',
      `${configPath}: sync.manifestFile ${sync.manifestFile} is not JSON`,
    );
  }
  if (isVitrineError(err, 'unauthenticated')) {
    return new CliError(
      'CONFIG',
      `${configPath}: sync.manifestFile ${sync.manifestFile} is not signed by sync.federationRootKey ${sync.federationRootKey} — sign it with that root (\`vitrine federation sign\`) or correct the key`,
      { cause: err },
    );
  }
  if (isVitrineError(err)) {
    return new CliError('CONFIG', `${configPath}: ${err.message}`, { cause: err });
  }
  return err;
}

/** A service that cannot start says why in the CLI's terms (a bad config is CONFIG). */
function startFailure(err: unknown): unknown {
  if (isVitrineError(err, 'invalid_argument'))
    return new CliError('CONFIG', err.message, { cause: err });
  if (isVitrineError(err, 'unavailable'))
    return new CliError('UNAVAILABLE', err.message, { cause: err });
  return err;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
