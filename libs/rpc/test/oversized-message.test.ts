import * as http2 from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import {
  ListArtifactsRequestSchema,
  ListArtifactsResponseSchema,
  PullArtifactRequestSchema,
  PushArtifactRequestSchema,
  PushArtifactResponseSchema,
  RegistryService,
} from '@vitrine/proto/registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DISCARD_MAX_BYTES } from '../src/unread-request.js';
import { startEchoServer } from './echo-server.js';
import { encodedPull, type PullProbe } from './encoded-pull.js';

const MiB = 1024 * 1024;
const SERVICE = '/vitrine.registry.v1.RegistryService';

/** Every ListArtifacts call the server applied, by the length of its product. */
const applied: number[] = [];
/** Data messages the PushArtifact handler read before it gave up. */
let pushedBeforeRefusal = 0;

/** ListArtifacts records what it applied; PushArtifact refuses its first data message. */
function recordingRoutes(router: ConnectRouter): void {
  router.service(RegistryService, {
    listArtifacts(req) {
      applied.push(req.product.length);
      return create(ListArtifactsResponseSchema, {});
    },
    async pushArtifact(reqs) {
      for await (const req of reqs) {
        if (req.part.case !== 'data') continue;
        pushedBeforeRefusal++;
        throw new ConnectError('refused at the first data message', Code.FailedPrecondition);
      }
      return create(PushArtifactResponseSchema, {});
    },
  });
}

let server: Awaited<ReturnType<typeof startEchoServer>>;
const probe: PullProbe = { yielded: 0, closed: false };
beforeAll(async () => {
  server = await startEchoServer({ routes: recordingRoutes, encodedStreams: [encodedPull(probe)] });
});
afterAll(() => server.close());
beforeEach(() => {
  applied.length = 0;
  pushedBeforeRefusal = 0;
});

/** gRPC messages, each behind its flags byte and 32-bit big-endian length. */
function envelopes(...messages: Uint8Array[]): Buffer {
  return Buffer.concat(
    messages.flatMap((bytes) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(bytes.length, 1);
      return [head, bytes];
    }),
  );
}

const list = (size: number) =>
  envelopes(
    toBinary(
      ListArtifactsRequestSchema,
      create(ListArtifactsRequestSchema, { product: 'x'.repeat(size) }),
    ),
  );

/** What a raw HTTP/2 client saw of one call: its gRPC status, or the stream's reset code. */
interface Outcome {
  code?: number;
  message?: string;
  rstCode?: number;
}

/** One call on an open session with the exact body given, as a bare HTTP/2 client sends it. */
function call(session: http2.ClientHttp2Session, method: string, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = {};
    const stream = session.request({
      ':method': 'POST',
      ':path': `${SERVICE}/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const status = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] === undefined) return;
      outcome.code = Number(headers['grpc-status']);
      outcome.message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
    };
    stream.on('response', status).on('trailers', status);
    stream.on('error', () => {});
    stream.on('close', () => {
      if (outcome.code === undefined) outcome.rstCode = stream.rstCode;
      resolve(outcome);
    });
    stream.resume();
    stream.end(body);
  });
}

/** Opens a session, runs `calls` on it one after another, and closes it. */
async function onOneConnection(
  calls: readonly [string, Buffer][],
): Promise<{ outcomes: Outcome[]; sessionError: unknown }> {
  const session = http2.connect(server.url);
  let sessionError: unknown;
  session.on('error', (err) => {
    sessionError = err;
  });
  const outcomes: Outcome[] = [];
  for (const [method, body] of calls) outcomes.push(await call(session, method, body));
  session.close();
  return { outcomes, sessionError };
}

describe('an oversized message', () => {
  it.each([5, 12, 20, 40])(
    'of %i MiB is refused on its own stream; the connection keeps serving',
    async (mib) => {
      const { outcomes, sessionError } = await onOneConnection([
        ['ListArtifacts', list(mib * MiB)],
        ['ListArtifacts', list(5)],
        ['ListArtifacts', list(6)],
      ]);
      expect(sessionError).toBeUndefined();
      expect(outcomes[0]).toMatchObject({ code: Code.ResourceExhausted });
      expect(outcomes[0]?.message).toMatch(/larger than configured readMaxBytes 4194304/);
      expect(outcomes.slice(1)).toEqual([
        { code: 0, message: '' },
        { code: 0, message: '' },
      ]);
      expect(applied).toEqual([5, 6]);
    },
  );

  it('to an encoded stream is refused the same way', async () => {
    const pull = envelopes(
      toBinary(
        PullArtifactRequestSchema,
        create(PullArtifactRequestSchema, { id: 'x'.repeat(20 * MiB) }),
      ),
    );
    const { outcomes } = await onOneConnection([
      ['PullArtifact', pull],
      ['ListArtifacts', list(7)],
    ]);
    expect(outcomes[0]).toMatchObject({ code: Code.ResourceExhausted });
    expect(outcomes[0]?.message).toMatch(/larger than configured readMaxBytes 4194304/);
    expect(outcomes[1]).toEqual({ code: 0, message: '' });
    expect(probe.yielded).toBe(0);
    expect(applied).toEqual([7]);
  });

  it('left unread by a handler that refused its stream does not hold up the connection', async () => {
    const data = (bytes: number) =>
      toBinary(
        PushArtifactRequestSchema,
        create(PushArtifactRequestSchema, { part: { case: 'data', value: new Uint8Array(bytes) } }),
      );
    const push = envelopes(...Array.from({ length: 24 }, () => data(MiB)));
    const { outcomes } = await onOneConnection([
      ['PushArtifact', push],
      ['ListArtifacts', list(8)],
    ]);
    expect(outcomes[0]).toEqual({
      code: Code.FailedPrecondition,
      message: 'refused at the first data message',
    });
    expect(pushedBeforeRefusal).toBe(1);
    expect(outcomes[1]).toEqual({ code: 0, message: '' });
    expect(applied).toEqual([8]);
  });

  it(`past ${DISCARD_MAX_BYTES / MiB} MiB unread, cuts the client off; the connection keeps serving`, async () => {
    const { outcomes } = await onOneConnection([
      ['ListArtifacts', list(DISCARD_MAX_BYTES + 8 * MiB)],
      ['ListArtifacts', list(9)],
    ]);
    // Node's client still holds more than its session memory allows when the status
    // comes, so it sees the reset rather than the status; either way nothing is applied.
    expect([outcomes[0]?.code, outcomes[0]?.rstCode]).toContainEqual(
      outcomes[0]?.code === undefined ? http2.constants.NGHTTP2_CANCEL : Code.ResourceExhausted,
    );
    expect(outcomes[1]).toEqual({ code: 0, message: '' });
    expect(applied).toEqual([9]);
  });

  it('does not hold the status from a client that keeps its request stream open', async () => {
    const session = http2.connect(server.url);
    const stream = session.request({
      ':method': 'POST',
      ':path': `${SERVICE}/PushArtifact`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const first = toBinary(
      PushArtifactRequestSchema,
      create(PushArtifactRequestSchema, { part: { case: 'data', value: new Uint8Array(16) } }),
    );
    stream.resume();
    stream.write(envelopes(first));
    const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
      stream.once('trailers', resolve),
    );
    expect(Number(trailers['grpc-status'])).toBe(Code.FailedPrecondition);
    stream.end();
    await new Promise((resolve) => stream.once('close', resolve));
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    session.close();
  });
});
