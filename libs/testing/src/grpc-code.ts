import { Code, ConnectError } from '@connectrpc/connect';

/**
 * The gRPC code name (`NotFound`, `DataLoss`, …) a call failed with, or `OK` when it
 * succeeded — so every rejection test asserts the exact code.
 */
export async function grpcCodeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return Code[ConnectError.from(err).code];
  }
  return 'OK';
}
