import { ConnectError } from '@connectrpc/connect';
import { codeName } from '@vitrine/rpc';

/**
 * The gRPC status name (`NOT_FOUND`, `DATA_LOSS`, …, as `codeName` spells it for the CLI
 * and the logs) a call failed with, or `OK` when it succeeded — so every rejection test
 * asserts the exact code.
 */
export async function grpcCodeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return codeName(ConnectError.from(err).code);
  }
  return 'OK';
}
