import { CliError } from './cli-error.js';

/** One page of a list call: its items and the token for the next page ('' when done). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken: string;
}

/** Page size the CLI asks for; the registry caps it at 1000. */
export const PAGE_SIZE = 500;

/**
 * Follows page tokens until the registry says there are no more, so `ls` shows
 * everything that matches. A token that comes back twice would loop forever, so it
 * stops with an error instead.
 */
export async function collectPages<T>(
  fetchPage: (pageToken: string) => Promise<Page<T>>,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let token = '';
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    token = page.nextPageToken;
    if (seen.has(token)) {
      throw new CliError('INTERNAL', `the registry returned page token '${token}' twice`);
    }
    seen.add(token);
  } while (token !== '');
  return items;
}
