import type { Action } from '@vitrine/credentials';
import { LogService } from '@vitrine/proto/log';
import { RegistryService } from '@vitrine/proto/registry';

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
  exportFindings: 'read',
  watchFindings: 'read',
  createFinding: 'review',
  updateFinding: 'review',
  addComment: 'comment',
  importFindings: 'review',
};

/**
 * The LogService methods that answer by the caller's credential (what they show depends on
 * its scope), checked like registry reads; the rest of LogService is open to anyone.
 */
export const LOG_METHOD_ACTIONS: Partial<
  Record<keyof (typeof LogService)['method'], MethodAction>
> = {
  listEvents: 'read',
  getReceipt: 'read',
};

/** Whether a call goes through the access checks: every registry call, some log calls. */
export function isEnforced(req: {
  readonly service: { readonly typeName: string };
  readonly method: { readonly localName: string };
}): boolean {
  if (req.service.typeName === RegistryService.typeName) return true;
  return req.service.typeName === LogService.typeName && req.method.localName in LOG_METHOD_ACTIONS;
}

/** The action a call needs; undefined for a method without an access rule. */
export function methodActionOf(req: {
  readonly service: { readonly typeName: string };
  readonly method: { readonly localName: string };
}): MethodAction | undefined {
  const actions: Record<string, MethodAction | undefined> =
    req.service.typeName === LogService.typeName ? LOG_METHOD_ACTIONS : METHOD_ACTIONS;
  return actions[req.method.localName];
}
