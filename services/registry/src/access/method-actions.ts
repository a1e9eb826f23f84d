import type { Action } from '@vitrine/credentials';
import type { RegistryService } from '@vitrine/proto/registry';

/** What a registry method does with artifacts: an action a scope grants, or publishing. */
export type MethodAction = Action | 'publish';

/**
 * Method → action, over every RegistryService method: publishing needs an operator
 * credential with the `operator` role; the rest need the scope's action on the artifacts
 * they touch. A method added to the service fails to compile until it is listed here.
 */
export const METHOD_ACTIONS: Record<keyof (typeof RegistryService)['method'], MethodAction> = {
  pushArtifact: 'publish',
  pullArtifact: 'read',
  getArtifact: 'read',
  listArtifacts: 'read',
  getFinding: 'read',
  listFindings: 'read',
  createFinding: 'review',
  updateFinding: 'review',
  addComment: 'comment',
};
