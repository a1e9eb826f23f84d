import type { Client } from '@connectrpc/connect';
import { ACCESS_AUDIENCE, callAuthInterceptor } from '@vitrine/credentials';
import { AccessService } from '@vitrine/proto/access';
import { createGrpcClient } from '@vitrine/rpc';
import type { CliIo } from './cli-io.js';
import { checkEndpoint, readFederation, type Target, vitrineHome } from './endpoints.js';
import { callAuthFor, openProfile, type Profile, profileNameOf } from './profile.js';
import { explainRpcError } from './rpc-errors.js';

/** A typed client for the central `vitrine.access.v1.AccessService`. */
export type AccessClient = Client<typeof AccessService>;

/** The flags every access command shares. */
export interface AccessFlags {
  /** Access service URL, instead of the one in federation.json. */
  readonly endpoint?: string | undefined;
  readonly data?: string | undefined;
  readonly profile?: string | undefined;
  readonly json?: boolean | undefined;
}

/** What an access command body gets: who it acts as, and a client signing as them. */
export interface AccessCall {
  readonly client: AccessClient;
  readonly profile: Profile;
}

/** Where the access service is: `--endpoint`, else federation.json's `access.url`. */
export async function accessTarget(io: CliIo, flags: AccessFlags): Promise<Target> {
  const url =
    flags.endpoint === undefined
      ? (await readFederation(vitrineHome(flags, io.env, io.cwd))).access.url
      : checkEndpoint(flags.endpoint);
  return { url, center: undefined, label: 'access' };
}

/** A client for the access service whose calls are signed as `auth` says. */
export function connectAccess(url: string, profile: Profile): AccessClient {
  return createGrpcClient(AccessService, url, {
    interceptors: [callAuthInterceptor(callAuthFor(profile, 'access'), ACCESS_AUDIENCE)],
  });
}

/**
 * Opens the selected profile, connects to the access service signing as it, and runs
 * `body`; a refused call becomes one line naming why (`access: the requester cannot
 * decide its own request`).
 */
export async function withAccess<T>(
  io: CliIo,
  flags: AccessFlags,
  body: (call: AccessCall) => Promise<T>,
  subject?: string,
): Promise<T> {
  const home = vitrineHome(flags, io.env, io.cwd);
  const profile = await openProfile(home, profileNameOf(flags, io.env));
  const target = await accessTarget(io, flags);
  try {
    return await body({ client: connectAccess(target.url, profile), profile });
  } catch (err) {
    throw explainRpcError(err, target, subject);
  }
}
