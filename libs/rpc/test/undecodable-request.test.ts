import * as http2 from 'node:http2';
import { Code } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoServer } from './echo-server.js';
import { encodedPull } from './encoded-pull.js';

// Bytes that are no message of the method's input type, sent as a gRPC client would.
const SERVICE = '/vitrine.registry.v1.RegistryService';

let server: Awaited<ReturnType<typeof startEchoServer>>;
beforeAll(async () => {
  server = await startEchoServer({ encodedStreams: [encodedPull({ yielded: 0, closed: false })] });
});
afterAll(() => server.close());

/** gRPC messages, each behind its flags byte and 32-bit big-endian length. */
function envelopes(...messages: Uint8Array[]): Buffer {
  return Buffer.concat(
    messages.flatMap((bytes) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(bytes.length, 1);
      return [head, Buffer.from(bytes)];
    }),
  );
}

/** One call with the exact body given: the gRPC status and message it ended with. */
function call(method: string, body: Buffer): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    const stream = session.request({
      ':method': 'POST',
      ':path': `${SERVICE}/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status: { code: number; message: string } | undefined;
    const read = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] === undefined) return;
      const message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      status = { code: Number(headers['grpc-status']), message };
    };
    stream.on('response', read).on('trailers', read).on('error', reject);
    stream.on('close', () => {
      session.close();
      if (status) resolve(status);
      else reject(new Error(`no status; reset ${stream.rstCode}`));
    });
    stream.resume();
    stream.end(body);
  });
}

/** Field 15 opened as a group `depth` times, then closed as often: unknown, deeply nested. */
function nestedGroups(depth: number): Uint8Array {
  return new Uint8Array([...Array(depth).fill(0x7b), ...Array(depth).fill(0x7c)]);
}

/** Bytes that do not decode, given how to put invalid UTF-8 into one of the type's strings. */
const undecodable = (invalidUtf8: number[]): [string, Uint8Array][] => [
  ['a length past the end', new Uint8Array([0x12, 0xff])],
  ['invalid UTF-8 in a string field', new Uint8Array(invalidUtf8)],
  ['groups nested 100,000 deep', nestedGroups(100_000)],
];
const BAD_UTF8 = [0x02, 0xc3, 0x28];

describe('a request message that does not decode is INVALID_ARGUMENT', () => {
  it.each(undecodable([0x12, ...BAD_UTF8]))(
    'in a unary call (ListArtifactsRequest.product): %s',
    async (_what, bytes) => {
      const status = await call('ListArtifacts', envelopes(bytes));
      expect(status.code).toBe(Code.InvalidArgument);
      expect(status.message).toMatch(/^parse binary: /);
    },
  );

  it.each(undecodable([0x0a, ...BAD_UTF8]))(
    'in a server stream served directly (PullArtifactRequest.id): %s',
    async (_what, bytes) => {
      const status = await call('PullArtifact', envelopes(bytes));
      expect(status.code).toBe(Code.InvalidArgument);
      expect(status.message).toMatch(/^parse binary: /);
    },
  );

  it.each(undecodable([0x0a, 0x04, 0x12, ...BAD_UTF8]))(
    'in a request stream after a good message (metadata.product): %s',
    async (_what, bytes) => {
      // PushArtifactRequest.metadata.product, then a message that does not decode.
      const metadata = new Uint8Array([0x0a, 0x03, 0x12, 0x01, 0x70]);
      const status = await call('PushArtifact', envelopes(metadata, bytes));
      expect(status.code).toBe(Code.InvalidArgument);
      expect(status.message).toMatch(/^parse binary: /);
    },
  );

  it('still answers a well-formed request', async () => {
    const product = new TextEncoder().encode('ok');
    const status = await call('ListArtifacts', envelopes(new Uint8Array([0x12, 2, ...product])));
    expect(status).toEqual({ code: 0, message: '' });
  });
});
