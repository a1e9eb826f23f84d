import type { CallAuth } from '@vitrine/credentials';
import { CliError, ReportedFailure } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import type { Access, Target } from './endpoints.js';
import { resolveTarget } from './endpoints.js';
import { reportError } from './output.js';
import { centerAuth, type ProfileFlags, proofCenterOf } from './registry-auth.js';
import type { RegistryClient } from './registry-client.js';
import { connectRegistry } from './registry-client.js';
import { explainRpcError } from './rpc-errors.js';

/** What a command body gets once its target is resolved and connected. */
export interface RegistryCall {
  readonly target: Target;
  readonly client: RegistryClient;
}

/**
 * Runs a command body and prints whatever it throws in the output mode the command was
 * given, then throws `ReportedFailure` carrying the exit status. Every command action
 * goes through here, so failures look the same everywhere.
 */
export async function runCommand(
  io: CliIo,
  json: boolean,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof ReportedFailure) throw err;
    const failure = toCliError(err);
    reportError(io, json, failure);
    throw new ReportedFailure(failure.exitCode);
  }
}

/**
 * Resolves where to talk to and who to act as, connects and runs `body` (see `callRegistry`).
 */
export async function withRegistry<T>(
  io: CliIo,
  flags: ProfileFlags,
  access: Access,
  body: (call: RegistryCall) => Promise<T>,
  subject?: string,
): Promise<T> {
  const target = await resolveTarget(flags, access, io.env, io.cwd);
  return callRegistry(target, body, subject, await centerAuth(flags, io.env, io.cwd));
}

/**
 * Connects to an already resolved target and runs `body`. Registry failures come out as
 * `CliError`s naming the center (and `subject`, for NOT_FOUND), e.g. `finding europe-17
 * not found at europe`.
 */
export async function callRegistry<T>(
  target: Target,
  body: (call: RegistryCall) => Promise<T>,
  subject?: string,
  auth?: () => Promise<CallAuth>,
): Promise<T> {
  const signing = auth && { center: proofCenterOf(target), auth };
  try {
    return await body({ target, client: connectRegistry(target.url, signing) });
  } catch (err) {
    throw explainRpcError(err, target, subject);
  }
}

/** Local file errors keep the OS's message; anything unexpected is INTERNAL. */
function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof Error && typeof code === 'string' && code.startsWith('E')) {
    return new CliError('IO', err.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CliError('INTERNAL', message, { cause: err });
}
