import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { ACCESS_AUDIENCE, type CallAuth, callAuthInterceptor } from '@vitrine/credentials';
import {
  readKeyFile,
  readSecretFile,
  type SigningKeyPair,
  writeKeyFile,
  writeSecretFile,
} from '@vitrine/crypto';
import { AccessService } from '@vitrine/proto/access';
import { createGrpcClient } from '@vitrine/rpc';
import { z } from 'zod';
import { CliError, usageError } from './cli-error.js';
import { readFederation } from './endpoints.js';

/** The profile commands act as unless `--profile` or `$VITRINE_PROFILE` names another. */
export const DEFAULT_PROFILE = 'operator';

/** An operator credential is renewed when it has less than this left. */
const RENEW_BEFORE_MS = 5 * 60_000;

const PROFILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const profileFileSchema = z.object({
  principal: z.string().regex(/^(partner|operator):[A-Za-z0-9._-]{1,64}$/),
  credential: z.string().startsWith('v4.public.').optional(),
});

/**
 * Who the CLI acts as: a folder `<data>/profiles/<name>/` holding the principal's Ed25519
 * key (`key.json`, 0600) and `profile.json` — its principal (`partner:<id>` or
 * `operator:<name>`) and, once it has one, its credential. Calls to the access service are
 * signed with the key; calls to centers carry the credential and a proof by the key.
 */
export interface Profile {
  readonly name: string;
  /** The data folder it belongs to (where federation.json names the access service). */
  readonly home: string;
  readonly dir: string;
  readonly principal: string;
  readonly key: SigningKeyPair;
  readonly credential: string | undefined;
}

/** The profile name: `--profile`, else `$VITRINE_PROFILE`, else `fallback` (`operator`). */
export function profileNameOf(
  flags: { readonly profile?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
  fallback: string = DEFAULT_PROFILE,
): string {
  const name = flags.profile ?? (env.VITRINE_PROFILE || undefined) ?? fallback;
  if (!PROFILE_NAME.test(name)) {
    throw usageError(`profile names are lower-case letters, digits and . _ - (got '${name}')`);
  }
  return name;
}

function profileDir(home: string, name: string): string {
  return join(home, 'profiles', name);
}

/** Reads a profile; a missing one says how to make it. */
export async function openProfile(home: string, name: string): Promise<Profile> {
  const dir = profileDir(home, name);
  const text = await readSecretFile(join(dir, 'profile.json'));
  const key = await readKeyFile(join(dir, 'key.json'));
  if (text === undefined || key === undefined) {
    throw new CliError(
      'CONFIG',
      `no profile '${name}' in ${join(home, 'profiles')} — register a partner with \`vitrine partner register --profile ${name}\`, or start \`vitrine dev\` for the operator profile`,
    );
  }
  const parsed = profileFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new CliError('CONFIG', `${join(dir, 'profile.json')} is not a vitrine profile`);
  }
  return {
    name,
    home,
    dir,
    key,
    principal: parsed.data.principal,
    credential: parsed.data.credential,
  };
}

/** Whether a profile of that name exists already. */
export async function profileExists(home: string, name: string): Promise<boolean> {
  return (await readSecretFile(join(profileDir(home, name), 'profile.json'))) !== undefined;
}

/**
 * Writes a new profile's key (0600) and principal. The key file is written first, so a
 * profile file never names a key that is not there.
 */
export async function createProfile(
  home: string,
  name: string,
  principal: string,
  key: SigningKeyPair,
): Promise<Profile> {
  const dir = profileDir(home, name);
  await writeKeyFile(join(dir, 'key.json'), key);
  const profile: Profile = { name, home, dir, principal, key, credential: undefined };
  await writeProfileFile(profile);
  return profile;
}

/** Removes a profile folder that was never completed (a registration that failed). */
export async function discardProfile(home: string, name: string): Promise<void> {
  await rm(profileDir(home, name), { recursive: true, force: true });
}

/** Stores a credential in the profile, replacing any earlier one. */
export async function saveCredential(profile: Profile, credential: string): Promise<Profile> {
  const next = { ...profile, credential };
  await writeProfileFile(next);
  return next;
}

async function writeProfileFile(profile: Profile): Promise<void> {
  const json = {
    principal: profile.principal,
    ...(profile.credential ? { credential: profile.credential } : {}),
  };
  await writeSecretFile(join(profile.dir, 'profile.json'), `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * What every call made as `profile` presents. For the access service: the principal and
 * the key (`{key, principal}`). For centers: the credential and the key (`{key,
 * credential}`); an operator profile renews its credential through IssueOperatorCredential
 * when it has none or it expires within five minutes, a partner profile must hold one (see
 * `vitrine access show`).
 */
export function callAuthFor(
  profile: Profile,
  service: 'registry' | 'access' = 'registry',
): () => Promise<CallAuth> {
  if (service === 'access') {
    return async () => ({ key: profile.key, principal: profile.principal });
  }
  let current = profile;
  return async () => {
    if (current.credential && !expiresSoon(current.credential)) {
      return { key: current.key, credential: current.credential };
    }
    if (!current.principal.startsWith('operator:')) {
      throw new CliError(
        'UNAUTHENTICATED',
        current.credential
          ? `the credential of profile '${current.name}' has expired or is about to — request access again with \`vitrine access request\``
          : `profile '${current.name}' has no credential yet — once your access request is approved, \`vitrine access show <request id>\` stores it`,
      );
    }
    current = await saveCredential(current, await renewOperatorCredential(current));
    return { key: current.key, credential: current.credential as string };
  };
}

/** A fresh operator credential from the access service named in federation.json. */
async function renewOperatorCredential(profile: Profile): Promise<string> {
  const { access } = await readFederation(profile.home);
  const client = createGrpcClient(AccessService, access.url, {
    interceptors: [callAuthInterceptor(callAuthFor(profile, 'access'), ACCESS_AUDIENCE)],
  });
  const issued = await client.issueOperatorCredential({});
  if (issued.expiresAt && timestampDate(issued.expiresAt).getTime() <= Date.now()) {
    throw new CliError('INTERNAL', 'the access service issued an expired credential');
  }
  return issued.credential;
}

/**
 * Whether a token expires within five minutes, read from its claims without verifying
 * them: the holder only decides when to renew; centers verify.
 */
function expiresSoon(token: string): boolean {
  const body = token.slice('v4.public.'.length).split('.')[0] ?? '';
  try {
    const message = Buffer.from(body, 'base64url');
    const claims = JSON.parse(message.subarray(0, message.length - 64).toString('utf8')) as {
      exp?: string;
    };
    const exp = claims.exp ? Date.parse(claims.exp) : Number.NaN;
    return !(exp - Date.now() > RENEW_BEFORE_MS);
  } catch {
    return true;
  }
}
