import type { Artifact } from '@vitrine/proto/artifact';
import { artifactKinds } from '@vitrine/proto/enum-words';
import { InvalidArgumentError } from 'commander';
import { CliError } from './cli-error.js';
import type { RegistryClient } from './registry-client.js';

/** Artifact ids are SHA-256 digests: 64 lowercase hex digits. */
const FULL_LENGTH = 64;

/** What the command line may give for an artifact: its id or a prefix of it, as git allows. */
const ID_OR_PREFIX = /^[0-9a-f]{4,64}$/;

/** How many candidates an ambiguous prefix lists. */
const SHOWN_CANDIDATES = 5;

/**
 * Checks an artifact id as typed (a commander argument parser, so a malformed one is a
 * usage error, exit 2, before anything is sent): all 64 hex digits or a prefix of at least
 * 4, in either case. Returns it in lower case, the way centers spell ids.
 */
export function parseArtifactId(value: string): string {
  const id = value.toLowerCase();
  if (!ID_OR_PREFIX.test(id)) {
    throw new InvalidArgumentError(
      'an artifact id is its 64 hex digits, or a unique prefix of at least 4',
    );
  }
  return id;
}

/** `parseArtifactId` for a repeatable flag (`--artifact A --artifact B`). */
export function collectArtifactIds(
  value: string,
  previous: readonly string[] | undefined,
): string[] {
  return [...(previous ?? []), parseArtifactId(value)];
}

/**
 * The full id an id or prefix (from `parseArtifactId`) names at the center `where`. A
 * prefix is looked up with ListArtifacts, which lists only what the caller may read, so a
 * partner never learns of an artifact by guessing prefixes. None matching is NOT_FOUND;
 * several is a usage error (exit 2) listing them, so the person can type more digits.
 */
export async function resolveArtifactId(
  client: RegistryClient,
  id: string,
  where: string,
): Promise<string> {
  if (id.length === FULL_LENGTH) return id;
  const page = await client.listArtifacts({ idPrefix: id, pageSize: SHOWN_CANDIDATES + 1 });
  const matches = page.artifacts;
  if (matches.some((artifact) => !artifact.id.startsWith(id))) {
    throw new CliError(
      'UNIMPLEMENTED',
      `${where} does not look up short artifact ids; give all 64 hex digits`,
    );
  }
  const [only, ...others] = matches;
  if (only === undefined) {
    throw new CliError('NOT_FOUND', `no artifact at ${where} has an id starting ${id}`);
  }
  if (others.length === 0 && page.nextPageToken === '') return only.id;
  const shown = matches.slice(0, SHOWN_CANDIDATES).map(candidate).join('; ');
  const more = matches.length > SHOWN_CANDIDATES || page.nextPageToken !== '' ? '; and more' : '';
  throw new CliError(
    'USAGE',
    `artifact id ${id} is ambiguous at ${where}, give more digits: it starts ${shown}${more}`,
  );
}

/** One candidate of an ambiguous prefix: its id and what it is. */
function candidate(artifact: Artifact): string {
  return `${artifact.id} (${artifactKinds.label(artifact.kind)} ${artifact.product} ${artifact.version})`;
}
