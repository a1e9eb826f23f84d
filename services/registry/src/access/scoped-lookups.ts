import type { HandlerContext } from '@connectrpc/connect';
import type { Action } from '@vitrine/credentials';
import type { Kysely } from 'kysely';
import type { Artifacts } from '../artifacts.js';
import { type Named, notFound } from '../not-found.js';
import type { ArtifactRow } from '../queries/artifacts.js';
import type { RegistryDatabase } from '../schema.js';
import { type CallSubject, grantOf } from './access-grant.js';
import { artifactFacts, findingFacts } from './artifact-facts.js';

type Db = Kysely<RegistryDatabase>;

/**
 * The artifact `id`, once the call's grant covers `action` on it. To a partner, one outside
 * its scope is not found, exactly as a missing one.
 */
export async function grantedArtifact(
  ctx: HandlerContext,
  artifacts: Artifacts,
  action: Action,
  id: string,
): Promise<ArtifactRow> {
  const grant = grantOf(ctx);
  grant.requireAction(action);
  const row = await artifacts.get(id);
  grant.require(action, [row], { artifactId: row.id, residency: row.residency }, () =>
    notFound('artifact', [id]),
  );
  return row;
}

/**
 * Refuses unless finding `findingId` exists here and the grant covers `action` on all its
 * artifacts. To a partner, a finding outside its scope is not found, exactly as a missing one.
 */
export async function requireOnFinding(
  ctx: HandlerContext,
  db: Db,
  action: Action,
  findingId: string,
): Promise<void> {
  const grant = grantOf(ctx);
  grant.requireAction(action);
  const facts = await findingFacts(db, findingId);
  if (!facts) throw notFound('finding', [findingId]);
  const about = { findingId, artifactId: facts.artifacts[0]?.id ?? '', residency: facts.residency };
  grant.require(action, facts.artifacts, about, () => notFound('finding', [findingId]));
}

/**
 * Refuses unless every artifact of `ids` exists here and the grant covers `action` on it
 * (the artifacts a new finding concerns, the update that fixes one). To a partner, those
 * outside its scope are named among the missing ones, in the same NOT_FOUND: whether an id
 * is missing or hidden cannot be told apart.
 */
export async function requireOnArtifacts(
  ctx: HandlerContext,
  db: Db,
  action: Action,
  ids: readonly string[],
  what: Named,
  about: Partial<CallSubject> = {},
): Promise<void> {
  const grant = grantOf(ctx);
  grant.requireAction(action);
  const held = await artifactFacts(db, ids);
  const isHeld = (id: string) => held.some((a) => a.id === id);
  grant.require(action, held, about, (outside) =>
    notFound(
      what,
      ids.filter((id) => !isHeld(id) || outside.some((a) => a.id === id)),
    ),
  );
  const missing = ids.filter((id) => !isHeld(id));
  if (missing.length > 0) throw notFound(what, missing);
}
