import * as http2 from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { PullArtifactRequestSchema, RegistryService } from '@vitrine/proto/registry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnectClient, createGrpcClient, type RunningServer } from '../src/index.js';
import { startEchoServer } from './echo-server.js';
import { CONTENT, encodedPull, type PullProbe } from './encoded-pull.js';

const PULL = '/vitrine.registry.v1.RegistryService/PullArtifact';
const MiB = 1024 * 1024;

let probe: PullProbe;
let server: RunningServer;
beforeAll(async () => {
  probe = { yielded: 0, closed: false };
  server = await startEchoServer({ encodedStreams: [encodedPull(probe)] });
});
afterAll(() => server.close());
beforeEach(() => {
  probe.yielded = 0;
  probe.abortReason = undefined;
  probe.closed = false;
});

/** The data bytes of a pull, and the code it ended with (0 for OK). */
async function pull(
  client: ReturnType<typeof createGrpcClient<typeof RegistryService>>,
  id: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ data: Buffer; code: Code | 0; message: string }> {
  const parts: Uint8Array[] = [];
  try {
    for await (const res of client.pullArtifact({ id }, options)) {
      if (res.part.case === 'data') parts.push(res.part.value);
    }
    return { data: Buffer.concat(parts), code: 0, message: '' };
  } catch (err) {
    const e = ConnectError.from(err);
    return { data: Buffer.concat(parts), code: e.code, message: e.rawMessage };
  }
}

/** A gRPC message: flags byte, 32-bit big-endian length, bytes. */
function envelope(bytes: Uint8Array, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

const pullRequest = (id: string) =>
  toBinary(PullArtifactRequestSchema, create(PullArtifactRequestSchema, { id }));

/** One call over a bare HTTP/2 client with the exact body given: its gRPC status and message. */
async function rawCall(
  body: Uint8Array,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ code: number; message: string }> {
  const session = http2.connect(server.url);
  try {
    const req = session.request({
      ':method': 'POST',
      ':path': PULL,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let status: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = h;
    });
    req.on('trailers', (t) => {
      status = t;
    });
    req.on('data', () => {});
    req.end(body);
    await new Promise((resolve) => req.on('close', resolve));
    return {
      code: Number(status['grpc-status']),
      message: decodeURIComponent(String(status['grpc-message'] ?? '')),
    };
  } finally {
    session.close();
  }
}

describe('encoded streams over gRPC', () => {
  it('sends each message as its pieces joined, the same bytes Connect sends', async () => {
    const size = 3 * MiB + 12_345;
    const grpc = await pull(createGrpcClient(RegistryService, server.url), `size:${size}`);
    const connect = await pull(createConnectClient(RegistryService, server.url), `size:${size}`);
    const expected = Buffer.concat([CONTENT, CONTENT, CONTENT, CONTENT.subarray(0, 12_345)]);
    expect(grpc.code).toBe(0);
    expect(grpc.data.equals(expected)).toBe(true);
    expect(connect.code).toBe(0);
    expect(connect.data.equals(expected)).toBe(true);
  });

  it('sends a domain error after the messages before it, mapped to its code', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    const failed = await pull(client, 'fail:data_loss');
    expect(failed).toMatchObject({ code: Code.DataLoss, message: 'failing with data_loss' });
    expect(failed.data.length).toBe(16);
    const unexpected = await pull(client, 'fail:unexpected');
    expect(unexpected).toMatchObject({ code: Code.Internal, message: 'internal error' });
  });

  it('sends a message holding a lone surrogate with U+FFFD in its place', async () => {
    const failed = await pull(createGrpcClient(RegistryService, server.url), 'fail:lone-surrogate');
    expect(failed).toMatchObject({
      code: Code.FailedPrecondition,
      message: 'name \uFFFD is not well-formed',
    });
  });

  it('refuses a request larger than readMaxBytes by its length prefix', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    const big = await pull(client, 'x'.repeat(4 * MiB + 1));
    expect(big.code).toBe(Code.ResourceExhausted);
    expect(big.message).toMatch(/larger than configured readMaxBytes 4194304/);
    expect(probe.yielded).toBe(0);
  });

  it('refuses a request that is missing, cut off, doubled or does not decode', async () => {
    const request = envelope(pullRequest('size:1'));
    const cases: [string, Uint8Array, RegExp][] = [
      ['no message', new Uint8Array(0), /missing input message/],
      ['a cut-off prefix', request.subarray(0, 3), /incomplete envelope/],
      ['a cut-off message', request.subarray(0, request.length - 1), /incomplete envelope/],
      ['two messages', Buffer.concat([request, request]), /extra input message/],
      [
        'bytes that are no PullArtifactRequest',
        envelope(Buffer.from([0x0a, 0xff])),
        /parse binary/,
      ],
    ];
    for (const [what, body, message] of cases) {
      const refused = await rawCall(body);
      expect({ what, ...refused }).toMatchObject({ what, code: Code.InvalidArgument });
      expect(refused.message).toMatch(message);
    }
    expect(probe.yielded).toBe(0);
  });

  it('refuses compression, which it does not accept', async () => {
    const body = pullRequest('size:1');
    expect(await rawCall(envelope(body, 1))).toMatchObject({
      code: Code.Internal,
      message: 'received compressed envelope, but do not know how to decompress',
    });
    const gzip = await rawCall(envelope(body), { 'grpc-encoding': 'gzip' });
    expect(gzip.code).toBe(Code.Unimplemented);
    expect(gzip.message).toMatch(/unknown compression "gzip"/);
  });

  it('ends a call at its grpc-timeout, aborting the handler', async () => {
    // A raw caller that never gives up itself: the server's deadline alone ends the call
    // (a Connect client with the same timeout races it, ending the call as Canceled).
    const late = await rawCall(envelope(pullRequest('wait')), { 'grpc-timeout': '200m' });
    expect(late.code).toBe(Code.DeadlineExceeded);
    await expect.poll(() => probe.closed).toBe(true);
    expect(ConnectError.from(probe.abortReason).code).toBe(Code.DeadlineExceeded);
    const bad = await rawCall(envelope(pullRequest('wait')), { 'grpc-timeout': '5 seconds' });
    expect(bad).toMatchObject({
      code: Code.InvalidArgument,
      message: 'protocol error: invalid grpc timeout value: 5 seconds',
    });
  });

  it('aborts the handler when the caller goes away', async () => {
    const client = createGrpcClient(RegistryService, server.url);
    const caller = new AbortController();
    for await (const _ of client.pullArtifact({ id: 'wait' }, { signal: caller.signal })) {
      caller.abort();
      break;
    }
    await expect.poll(() => probe.closed).toBe(true);
    expect(ConnectError.from(probe.abortReason).code).toBe(Code.Canceled);
  });

  it('holds a stream back while the caller does not read (flow control)', async () => {
    const client = createGrpcClient(RegistryService, server.url, { readMaxBytes: 2 * MiB });
    const caller = new AbortController();
    let read = 0;
    for await (const _ of client.pullArtifact({ id: 'endless' }, { signal: caller.signal })) {
      if (++read === 3) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        break;
      }
    }
    // The HTTP/2 windows (8 MiB for the stream) bound what is in flight; unbounded, the
    // handler would have yielded hundreds of megabytes in half a second.
    expect(probe.yielded).toBeLessThan(read + 20);
    caller.abort();
    await expect.poll(() => probe.closed).toBe(true);
  });
});

describe('encoded streams at shutdown', () => {
  it('ends calls in flight with UNAVAILABLE', async () => {
    const own: PullProbe = { yielded: 0, closed: false };
    const closing = await startEchoServer({
      encodedStreams: [encodedPull(own)],
      shutdownGraceMs: 5_000,
    });
    const client = createGrpcClient(RegistryService, closing.url);
    const call = pull(client, 'wait');
    await expect.poll(() => own.yielded).toBe(1);
    const closed = closing.close();
    expect((await call).code).toBe(Code.Unavailable);
    await closed;
    expect(own.closed).toBe(true);
  });
});
