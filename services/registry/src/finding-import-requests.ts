import { invalidField } from '@vitrine/errors';
import type { ImportFindingsRequest, ImportFindingsStart } from '@vitrine/proto/registry';
import { MAX_DATA_MESSAGE } from './artifacts.js';
import { ARTIFACT_ID, assertId } from './validate.js';

/**
 * The first message of an ImportFindings call: the start, naming a well-formed artifact id.
 * Anything else is invalid_argument.
 */
export async function importStart(
  requests: AsyncIterator<ImportFindingsRequest>,
): Promise<ImportFindingsStart> {
  const first = await requests.next();
  if (first.done || first.value.part.case !== 'start') {
    throw invalidField('part', 'the first message of an import must be start', 'import');
  }
  const start = first.value.part.value;
  assertId('start.artifact_id', start.artifactId, ARTIFACT_ID, 'an artifact id (64 hex digits)');
  return start;
}

/** The file's bytes from the messages after the start: data only, at most 1 MiB each. */
export async function* importData(
  requests: AsyncIterable<ImportFindingsRequest>,
): AsyncGenerator<Uint8Array> {
  for await (const request of requests) {
    if (request.part.case !== 'data') {
      throw invalidField('part', 'only the first message of an import is start', 'import');
    }
    if (request.part.value.length > MAX_DATA_MESSAGE) {
      throw invalidField('data', `at most ${MAX_DATA_MESSAGE} bytes per message`, 'import');
    }
    yield request.part.value;
  }
}
