import { z } from 'zod';

/** What a credential lets its holder do with an artifact (and its findings). */
export const ACTIONS = ['read', 'review', 'comment'] as const;
export type Action = (typeof ACTIONS)[number];

/** Artifact kinds a scope can name; the words of `vitrine.registry.v1.ArtifactKind`. */
export const ARTIFACT_KINDS = ['source', 'update', 'rules'] as const;
export type ArtifactKindWord = (typeof ARTIFACT_KINDS)[number];

/**
 * A grant: the artifacts it covers and the actions allowed on them. Each non-empty list
 * narrows the grant (kinds AND products AND ids); an empty list places no limit on that
 * dimension. `{ kinds: ['source'], products: ['edge-agent'] }` covers the source snapshots of
 * edge-agent and nothing else. At least one action is always present.
 */
export const scopeSchema = z
  .object({
    kinds: z.array(z.enum(ARTIFACT_KINDS)).default([]),
    products: z.array(z.string().min(1).max(128)).default([]),
    artifacts: z.array(z.string().min(1).max(128)).default([]),
    actions: z.array(z.enum(ACTIONS)).min(1),
  })
  .strict();

export type Scope = z.infer<typeof scopeSchema>;

/** The facts about an artifact a scope is checked against. */
export interface ScopedArtifact {
  readonly id: string;
  readonly kind: string;
  readonly product: string;
}

/** True when `scope` allows `action` on `artifact`. */
export function scopeCovers(scope: Scope, artifact: ScopedArtifact, action: Action): boolean {
  if (!scope.actions.includes(action)) return false;
  return (
    within(scope.kinds, artifact.kind) &&
    within(scope.products, artifact.product) &&
    within(scope.artifacts, artifact.id)
  );
}

/** True when `scope` allows `action` on at least some artifact (before looking any up). */
export function scopeAllows(scope: Scope, action: Action): boolean {
  return scope.actions.includes(action);
}

const within = (limit: readonly string[], value: string) =>
  limit.length === 0 || limit.includes(value);
