import { VitrineError } from '@vitrine/errors';

/** What a registry call can name that may not exist (or may be outside the caller's scope). */
export type Named =
  | 'artifact'
  | 'finding'
  | 'original finding'
  | 'fix artifact'
  | 'superseded artifact';

/**
 * The NOT_FOUND answer for `ids`, built in one place: an artifact or finding a partner's scope
 * hides answers with exactly this error, so a refusal cannot tell a partner that something
 * exists outside its scope.
 */
export function notFound(what: Named, ids: readonly string[]): VitrineError {
  return new VitrineError('not_found', `${what} ${ids.join(', ')} not found`);
}
