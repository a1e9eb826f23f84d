import { ConnectError } from '@connectrpc/connect';
import { Health, HealthCheckResponse_ServingStatus } from '@vitrine/proto/health';
import { codeName, createGrpcClient } from '@vitrine/rpc';
import { CliError, usageError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { CommandGroup } from './command-group.js';
import { writeResult } from './output.js';
import { runCommand } from './run-command.js';

interface HealthOptions {
  readonly endpoint: string;
  readonly service: string;
  readonly timeout: string;
  readonly json?: boolean;
}

/**
 * `vitrine health --endpoint URL`: one grpc.health.v1 Check, exit 0 only when SERVING. The
 * container image's HEALTHCHECK runs it; Kubernetes asks the same service with its own
 * gRPC probes.
 */
export const healthCommand: CommandGroup = (program, io) => {
  program
    .command('health')
    .description(
      'ask a vitrine server whether it is serving (grpc.health.v1); exit 0 only when SERVING',
    )
    .option('--endpoint <url>', 'the server to ask', 'http://127.0.0.1:7410')
    .option('--service <name>', 'the service to ask about ("" is the whole server)', '')
    .option('--timeout <ms>', 'give up after this many milliseconds', '3000')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Exit status: 0 SERVING, 1 anything else (NOT_SERVING, unreachable, timed out), 2 bad flags.
Example:
  $ vitrine health --endpoint http://127.0.0.1:7410`,
    )
    .action((options: HealthOptions) =>
      runCommand(io, options.json === true, () => checkHealth(io, options)),
    );
};

async function checkHealth(io: CliIo, options: HealthOptions): Promise<void> {
  const timeoutMs = Number(options.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw usageError('--timeout must be a whole number of milliseconds');
  }
  if (!URL.canParse(options.endpoint)) {
    throw usageError(
      `--endpoint must be a URL such as http://127.0.0.1:7410 (got '${options.endpoint}')`,
    );
  }
  const client = createGrpcClient(Health, options.endpoint);
  let status: HealthCheckResponse_ServingStatus;
  try {
    const response = await client.check({ service: options.service }, { timeoutMs });
    status = response.status;
  } catch (err) {
    const code = err instanceof ConnectError ? codeName(err.code) : 'UNAVAILABLE';
    throw new CliError(code, `${options.endpoint}: ${(err as Error).message}`);
  }
  const name = HealthCheckResponse_ServingStatus[status] ?? String(status);
  if (status !== HealthCheckResponse_ServingStatus.SERVING) {
    throw new CliError('NOT_SERVING', `${options.endpoint} is ${name}`);
  }
  writeResult(io, options.json === true, {
    json: () => ({ endpoint: options.endpoint, service: options.service, status: name }),
    human: () => [`${options.endpoint}: ${name}`],
  });
}
