import { randomBytes } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { type ErrorCode, invalidRequest, VitrineError } from '@vitrine/errors';
import {
  type PullArtifactRequestSchema,
  PullArtifactResponseSchema,
  RegistryService,
} from '@vitrine/proto/registry';
import { bytesFieldPieces, type EncodedStream } from '../src/index.js';
import { BAD_FIELDS } from './echo-registry.js';

/** PullArtifactResponse.data's field number. */
const DATA_FIELD = 2;
/** Random bytes, sent 1 MiB to a message. */
export const CONTENT = new Uint8Array(randomBytes(1024 * 1024));

/** What a test can see of the calls the stand-in served. */
export interface PullProbe {
  /** Messages yielded so far, over every call. */
  yielded: number;
  /** Why the last call's signal aborted, once it did. */
  abortReason?: unknown;
  /** Set when a call's generator has been closed, however it ended. */
  closed: boolean;
}

/** One data message of `bytes` (a prefix of CONTENT), encoded in two pieces. */
function dataPieces(bytes: number): Uint8Array[] {
  const half = Math.floor(bytes / 2);
  return bytesFieldPieces(DATA_FIELD, [CONTENT.subarray(0, half), CONTENT.subarray(half, bytes)]);
}

/**
 * PullArtifact of the stand-in registry as an encoded stream. Id `size:<n>` sends an
 * artifact header then n bytes of CONTENT in 1 MiB data messages (each written in two
 * pieces); `fail:<code>` sends one message then throws VitrineError(<code>) (`unexpected`:
 * a plain Error; `fields`: an invalid request naming BAD_FIELDS; `lone-surrogate`: a message
 * holding one); `wait` sends one message and waits for the call to end; `endless` sends
 * 1 MiB messages until the call ends.
 */
export function encodedPull(
  probe: PullProbe,
): EncodedStream<typeof PullArtifactRequestSchema, typeof PullArtifactResponseSchema> {
  return {
    method: RegistryService.method.pullArtifact,
    async *serve({ id }, signal) {
      signal.addEventListener('abort', () => {
        probe.abortReason = signal.reason;
      });
      try {
        if (id.startsWith('size:')) {
          const size = Number(id.slice(5));
          const head = create(PullArtifactResponseSchema, {
            part: { case: 'artifact', value: { id, size: BigInt(size) } },
          });
          yield [toBinary(PullArtifactResponseSchema, head)];
          for (let sent = 0; sent < size; sent += CONTENT.length) {
            probe.yielded++;
            yield dataPieces(Math.min(CONTENT.length, size - sent));
          }
          return;
        }
        probe.yielded++;
        yield dataPieces(16);
        if (id.startsWith('fail:')) {
          const code = id.slice(5);
          if (code === 'unexpected') throw new Error('db password=hunter2');
          if (code === 'fields') throw invalidRequest(BAD_FIELDS);
          if (code === 'lone-surrogate') {
            throw new VitrineError('failed_precondition', 'name \uD800 is not well-formed');
          }
          throw new VitrineError(code as ErrorCode, `failing with ${code}`);
        }
        if (id === 'wait') {
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          return;
        }
        while (id === 'endless' && !signal.aborted) {
          probe.yielded++;
          yield dataPieces(CONTENT.length);
        }
      } finally {
        probe.closed = true;
      }
    },
  };
}
