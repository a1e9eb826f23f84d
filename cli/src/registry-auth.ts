import type { CallAuth } from '@vitrine/credentials';
import { usageError } from './cli-error.js';
import { type Target, type TargetFlags, vitrineHome } from './endpoints.js';
import {
  callAuthFor,
  DEFAULT_PROFILE,
  openProfile,
  profileExists,
  profileNameOf,
} from './profile.js';

/** The flags that choose who a command acts as. */
export interface ProfileFlags extends TargetFlags {
  readonly profile?: string | undefined;
}

/**
 * How calls to a center are signed: with the selected profile's credential and a proof by
 * its key (an operator profile renews its credential as needed). A profile chosen with
 * `--profile` or `$VITRINE_PROFILE` must exist; without one and without the default
 * `operator` profile, calls go unsigned and the center refuses them, saying why.
 */
export async function centerAuth(
  flags: ProfileFlags,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<(() => Promise<CallAuth>) | undefined> {
  const home = vitrineHome(flags, env, cwd);
  const name = profileNameOf(flags, env);
  if (name === DEFAULT_PROFILE && !(await profileExists(home, name))) return undefined;
  return callAuthFor(await openProfile(home, name));
}

/**
 * The center a signed call's proof names. A proof is valid at one center only, so a call
 * signed by a profile must know which center it talks to: from the federation file, or
 * `--center` beside `--endpoint`.
 */
export function proofCenterOf(target: Target): string {
  if (target.center !== undefined) return target.center;
  throw usageError(
    `--endpoint ${target.url} needs --center <id> when calls are signed: each call's proof names the center it is for`,
  );
}
