import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { type ErrorCode, invalidRequest, VitrineError } from '@vitrine/errors';
import {
  file_vitrine_registry_v1_registry,
  ListArtifactsResponseSchema,
  type PullArtifactResponse,
  PullArtifactResponseSchema,
  PushArtifactResponseSchema,
  RegistryService,
} from '@vitrine/proto/registry';

/**
 * A stand-in registry for exercising the RPC layer over real sockets. It reuses the
 * generated RegistryService (no test protos) and implements three methods:
 *
 * - ListArtifacts echoes `product` and names the protocol that reached it in
 *   `next_page_token`; product `fail:<code>` throws VitrineError(<code>), `fail:unexpected`
 *   throws a plain Error whose message holds a secret that must never reach the caller,
 *   `fail:fields` throws an invalid request naming BAD_FIELDS.
 * - PullArtifact streams: id `size:<n>` sends an artifact header then n bytes in 1 MiB
 *   messages; id `fail:<code>` sends one message then throws.
 * - PushArtifact counts the data messages; a data message `fail:<code>` throws while the
 *   request stream is being read.
 */
export const SECRET_CAUSE = 'db password=hunter2';

/** The file the stand-in's service is declared in, for reflection. */
export const echoFiles = [file_vitrine_registry_v1_registry];

/** Random bytes, like the (already compressed) content of most artifacts. */
const CHUNK = new Uint8Array(randomBytes(1024 * 1024));

/** The bad fields `fail:fields` is refused for. */
export const BAD_FIELDS = [
  { field: 'product', message: 'must be lower case' },
  { field: 'page_size', message: 'at most 1000' },
];

function fail(code: string): never {
  if (code === 'unexpected') throw new Error(SECRET_CAUSE);
  if (code === 'fields') throw invalidRequest(BAD_FIELDS);
  throw new VitrineError(code as ErrorCode, `failing with ${code}`, {
    cause: new Error(SECRET_CAUSE),
  });
}

async function* pull(id: string, ctx: HandlerContext): AsyncGenerator<PullArtifactResponse> {
  if (id.startsWith('fail:')) {
    yield create(PullArtifactResponseSchema, {
      part: { case: 'data', value: CHUNK.subarray(0, 16) },
    });
    fail(id.slice(5));
  }
  const size = Number(id.slice(5));
  yield create(PullArtifactResponseSchema, {
    part: { case: 'artifact', value: { id, size: BigInt(size) } },
  });
  for (let sent = 0; sent < size && !ctx.signal.aborted; sent += CHUNK.length) {
    const value = CHUNK.subarray(0, Math.min(CHUNK.length, size - sent));
    yield create(PullArtifactResponseSchema, { part: { case: 'data', value } });
  }
}

/** Registers the stand-in registry on a router. */
export function echoRoutes(router: ConnectRouter): void {
  router.service(RegistryService, {
    listArtifacts(req, ctx) {
      if (req.product.startsWith('fail:')) fail(req.product.slice(5));
      return create(ListArtifactsResponseSchema, {
        artifacts: [{ id: 'a1', product: req.product }],
        nextPageToken: ctx.protocolName,
      });
    },
    pullArtifact: (req, ctx) => pull(req.id, ctx),
    async pushArtifact(reqs) {
      let stored = 0;
      for await (const req of reqs) {
        if (req.part.case !== 'data') continue;
        const text = new TextDecoder().decode(req.part.value);
        if (text.startsWith('fail:')) fail(text.slice(5));
        stored++;
      }
      return create(PushArtifactResponseSchema, { chunksStored: stored });
    },
  });
}
